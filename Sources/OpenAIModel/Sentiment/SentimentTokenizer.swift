extension SentimentAnalyzer {
    /// One unit of the text as the scorer sees it.
    enum Token: Sendable, Equatable {
        /// A lower-cased word; apostrophes inside it are kept as "'".
        case word(String)
        /// An emoji or emoticon and its weight.
        case symbol(Int8)
        /// "," ";" ":" brackets, dashes: ends negation and intensity.
        case clauseBreak
        /// "." "!" "?" line breaks: also ends the reach of "but".
        case sentenceBreak
    }

    /// Splits text into words, emoticons and punctuation, on scalar
    /// boundaries of the lower-cased text.
    static func tokenize(_ text: String) -> [Token] {
        let scalars = Array(text.lowercased().unicodeScalars)
        let n = scalars.count
        var tokens: [Token] = []
        tokens.reserveCapacity(n / 5 + 1)
        // The current word as UTF-8 (appending to a String.UnicodeScalarView
        // and converting it back cost most of the tokenizer's time).
        var word: [UInt8] = []
        word.reserveCapacity(32)

        func flush() {
            if word.isEmpty { return }
            tokens.append(.word(canonical(String(decoding: word, as: UTF8.self))))
            word.removeAll(keepingCapacity: true)
        }
        func append(_ s: Unicode.Scalar) {
            if s.isASCII {
                word.append(UInt8(truncatingIfNeeded: s.value))
            } else {
                word.append(contentsOf: UTF8.encode(s)!)
            }
        }
        func push(_ t: Token) {
            // A run of punctuation counts once; a sentence break wins.
            if let last = tokens.last {
                if last == t { return }
                if t == .sentenceBreak && last == .clauseBreak {
                    tokens[tokens.count - 1] = t
                    return
                }
                if t == .clauseBreak && last == .sentenceBreak { return }
            }
            tokens.append(t)
        }

        var i = 0
        while i < n {
            let s = scalars[i]
            if isWordScalar(s) {
                append(s)
                i += 1
                continue
            }
            let nextIsWord = i + 1 < n && isWordScalar(scalars[i + 1])
            if isApostrophe(s) && !word.isEmpty && nextIsWord {
                word.append(0x27)  // "'"
                i += 1
                continue
            }
            let previousIsWord = !word.isEmpty
            flush()
            if let (weight, length) = matchEmoticon(scalars, at: i) {
                tokens.append(.symbol(weight))
                i += length
                continue
            }
            if let weight = emoji[s.value] {
                tokens.append(.symbol(weight))
                i += 1
                continue
            }
            switch s.value {
            case 0x2E, 0x21, 0x3F, 0x0A, 0x0D, 0x0B, 0x0C, 0x85, 0x2026, 0x2028, 0x2029,
                 0x3002, 0xFF01, 0xFF0E, 0xFF1F, 0x203C, 0x2047, 0x2048, 0x2049:
                push(.sentenceBreak)
            case 0x2C, 0x3B, 0x3A, 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D,
                 0x2012, 0x2013, 0x2014, 0x2015, 0xFF0C, 0x3001, 0xFF1B, 0xFF1A:
                push(.clauseBreak)
            case 0x2D, 0x2010, 0x2011:
                // A hyphen inside a word ("good-bye", "well-made") only
                // separates; standing alone it is a dash.
                if !(previousIsWord && nextIsWord) { push(.clauseBreak) }
            default:
                break  // spaces, symbols, control characters: separators
            }
            i += 1
        }
        flush()
        return tokens
    }

    /// Letters, marks (so combining accents stay in their word) and digits.
    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A)
        }
        switch s.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// ' and the typographic ’ (and the modifier-letter apostrophe ʼ).
    static func isApostrophe(_ s: Unicode.Scalar) -> Bool {
        s.value == 0x27 || s.value == 0x2019 || s.value == 0x2BC
    }

    /// The emoticon starting at `index`, if any: its weight and length.
    static func matchEmoticon(_ scalars: [Unicode.Scalar], at index: Int) -> (Int8, Int)? {
        guard index < scalars.count else { return nil }
        switch scalars[index] {
        case ":", ";", "=", "<": break
        default: return nil
        }
        for e in emoticons {
            let length = e.scalars.count
            guard length > 0, index + length <= scalars.count else { continue }
            var k = 0
            while k < length && scalars[index + k] == e.scalars[k] { k += 1 }
            guard k == length else { continue }
            // Not glued to a word: "re:do" holds no ":d".
            if index + length < scalars.count && isWordScalar(scalars[index + length]) { continue }
            if e.standsAlone && index > 0 && isWordScalar(scalars[index - 1]) { continue }
            return (e.weight, length)
        }
        return nil
    }

    /// The word as the tables know it: elongated words ("sooo", "goooood",
    /// "loooove") are shortened to a known form when there is one.
    static func canonical(_ word: String) -> String {
        if !hasRepeatRun(word) || isKnown(word) { return word }
        let two = collapsingRepeats(word, keeping: 2)
        if isKnown(two) { return two }
        let one = collapsingRepeats(word, keeping: 1)
        if isKnown(one) { return one }
        return word
    }

    static func isKnown(_ word: String) -> Bool {
        wordTable[word] != nil || phraseMaxLength[word] != nil
    }

    /// Whether a letter repeats three or more times in a row.
    static func hasRepeatRun(_ word: String) -> Bool {
        var previous: Unicode.Scalar?
        var run = 0
        for s in word.unicodeScalars {
            if s == previous {
                run += 1
                if run >= 3 { return true }
            } else {
                previous = s
                run = 1
            }
        }
        return false
    }

    /// Shortens every run of three or more equal scalars to `keeping`.
    static func collapsingRepeats(_ word: String, keeping: Int) -> String {
        let scalars = Array(word.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            var j = i
            while j < scalars.count && scalars[j] == s { j += 1 }
            let run = j - i
            let kept = run >= 3 ? keeping : run
            var k = 0
            while k < kept {
                out.append(s)
                k += 1
            }
            i = j
        }
        return String(out)
    }
}
