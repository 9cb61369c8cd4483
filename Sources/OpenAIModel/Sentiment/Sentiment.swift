/// The polarity of a piece of text.
enum Sentiment: String, Sendable {
    case positive, negative, neutral
}

/// An offline, lexicon-based sentiment classifier.
///
/// The text is lower-cased (Unicode-aware) and split on word boundaries;
/// each word found in the lexicon contributes its weight (-3...+3), adjusted
/// by the words before it:
///
/// * a negator ("not", "never", "no", "without", "hardly", any "...n't")
///   flips and halves the weight of sentiment words up to three words after
///   it; punctuation, "but" and "however" end its reach;
/// * an intensifier ("very", "extremely", "so" ...) multiplies, and a
///   dampener ("slightly", "a bit", "kind of" ...) shrinks, the next
///   sentiment word within two words;
/// * "but"/"however" halve what came before in the sentence and weigh what
///   follows by 1.5;
/// * a few fixed phrases override word-by-word reading ("not bad at all",
///   "good bye", "kind regards", "can't wait", "to die for");
/// * emoji and ASCII emoticons carry their own weight.
///
/// The sum decides: above zero is positive, below zero negative, and a tie
/// or nothing found is neutral. Runs in time linear in the input and never
/// traps, whatever the string holds.
enum SentimentAnalyzer {
    /// Classifies text. Never fails, never traps.
    static func classify(_ text: String) -> Sentiment {
        let s = score(text)
        if s > epsilon { return .positive }
        if s < -epsilon { return .negative }
        return .neutral
    }

    /// The score behind `classify`: the sum of the weighted contributions of
    /// every sentiment word, phrase and emoji (0 when none is found).
    static func score(_ text: String) -> Double {
        let tokens = tokenize(text)
        var scorer = Scorer()
        scorer.run(tokens)
        return scorer.total
    }

    /// Scores closer to zero than this count as a tie.
    static let epsilon = 1e-9
    /// What a negated sentiment word is multiplied by: flipped and damped
    /// ("not good" is mildly negative, "not bad" mildly positive).
    static let negationFactor = -0.5
    /// How many words after a negator it reaches.
    static let negationWindow = 3
    /// How many words after an intensifier or dampener it reaches.
    static let boostWindow = 2
    /// Bounds of the combined multiplier of stacked intensifiers/dampeners.
    static let maxBoost = 4.0
    static let minBoost = 0.25
    /// "but": what came before it in the sentence is multiplied by the
    /// first, what follows by the second.
    static let contrastBefore = 0.5
    static let contrastAfter = 1.5
}

extension SentimentAnalyzer {
    /// Walks the tokens once, left to right, keeping the negation and
    /// intensifier state of the current clause.
    struct Scorer {
        /// Score of the finished sentences.
        private(set) var finished = 0.0
        /// Score of the sentence being read.
        private var sentence = 0.0
        /// Weight of the current clause (1.5 after "but").
        private var contrast = 1.0
        /// Words still within reach of the last negator.
        private var negationLeft = 0
        /// Whether the words within reach are negated (two negators cancel).
        private var negated = false
        /// Pending multiplier from intensifiers/dampeners, and its reach.
        private var boost = 1.0
        private var boostLeft = 0
        /// The word just before the current one, within the clause.
        private var previousWord: String?

        var total: Double { finished + sentence }

        mutating func run(_ tokens: [Token]) {
            var i = 0
            let count = tokens.count
            while i < count {
                switch tokens[i] {
                case .sentenceBreak:
                    endSentence()
                    i += 1
                case .clauseBreak:
                    resetModifiers()
                    i += 1
                case .symbol(let weight):
                    sentence += Double(weight) * contrast
                    i += 1
                case .word(let word):
                    if let maxLength = SentimentAnalyzer.phraseMaxLength[word],
                       let (action, length) = SentimentAnalyzer.matchPhrase(
                           tokens, at: i, first: word, maxLength: maxLength)
                    {
                        apply(action)
                        if case .word(let last) = tokens[i + length - 1] {
                            previousWord = last
                        }
                        i += length
                    } else {
                        let next: String?
                        if i + 1 < count, case .word(let w) = tokens[i + 1] {
                            next = w
                        } else {
                            next = nil
                        }
                        read(word, next: next)
                        previousWord = word
                        i += 1
                    }
                }
            }
            endSentence()
        }

        private mutating func endSentence() {
            finished += sentence
            sentence = 0
            contrast = 1
            resetModifiers()
        }

        private mutating func resetModifiers() {
            negationLeft = 0
            negated = false
            boost = 1
            boostLeft = 0
            previousWord = nil
        }

        /// Moves the reach of negation and intensity on by one word.
        private mutating func step() {
            if negationLeft > 0 {
                negationLeft -= 1
                if negationLeft == 0 { negated = false }
            }
            if boostLeft > 0 {
                boostLeft -= 1
                if boostLeft == 0 { boost = 1 }
            }
        }

        private mutating func negate() {
            step()
            negated = negationLeft > 0 ? !negated : true
            negationLeft = SentimentAnalyzer.negationWindow
        }

        private mutating func intensify(_ factor: Double) {
            step()
            boost = min(max(boost * factor, SentimentAnalyzer.minBoost), SentimentAnalyzer.maxBoost)
            boostLeft = SentimentAnalyzer.boostWindow
        }

        private mutating func contrastShift() {
            sentence *= SentimentAnalyzer.contrastBefore
            contrast = SentimentAnalyzer.contrastAfter
            resetModifiers()
        }

        /// Adds one sentiment word (or phrase) of the given weight.
        private mutating func add(_ weight: Double) {
            var value = weight * boost
            if negated && negationLeft > 0 { value *= SentimentAnalyzer.negationFactor }
            sentence += value * contrast
            boost = 1
            boostLeft = 0
            step()
        }

        private mutating func apply(_ action: PhraseAction) {
            switch action {
            case .weight(let w):
                if w == 0 { step() } else { add(Double(w)) }
            case .boost(let factor):
                intensify(factor)
            case .negator:
                negate()
            }
        }

        private mutating func read(_ word: String, next: String?) {
            guard let entry = SentimentAnalyzer.entry(for: word) else {
                step()
                return
            }
            if entry.isContrast {
                contrastShift()
                return
            }
            if entry.isNegator {
                negate()
                return
            }
            if entry.boost != 1 {
                // A word that is both ("terribly", "pretty") intensifies
                // only when a sentiment word follows it directly.
                if entry.weight == 0 || SentimentAnalyzer.isSentimentWord(next) {
                    intensify(entry.boost)
                    return
                }
            }
            if entry.weight != 0 {
                if entry.needsSubject {
                    guard let previous = previousWord,
                          SentimentAnalyzer.likeContext.contains(previous)
                    else {
                        step()
                        return
                    }
                }
                add(Double(entry.weight))
                return
            }
            step()
        }
    }

    /// The table entry of a word, including the "...n't" negators not listed.
    static func entry(for word: String) -> WordEntry? {
        if let e = wordTable[word] { return e }
        if word.hasSuffix("n't") { return WordEntry(isNegator: true) }
        return nil
    }

    /// Whether the word carries sentiment or intensity of its own.
    static func isSentimentWord(_ word: String?) -> Bool {
        guard let word, let e = wordTable[word] else { return false }
        return e.weight != 0 || e.boost > 1
    }

    /// The longest phrase starting at `index`, if any.
    static func matchPhrase(
        _ tokens: [Token], at index: Int, first: String, maxLength: Int
    ) -> (PhraseAction, Int)? {
        let available = tokens.count - index
        var length = min(maxLength, available)
        while length >= 2 {
            var key = first
            var complete = true
            var k = 1
            while k < length {
                guard case .word(let w) = tokens[index + k] else {
                    complete = false
                    break
                }
                key += " "
                key += w
                k += 1
            }
            if complete, let action = phrases[key] {
                return (action, length)
            }
            length -= 1
        }
        return nil
    }
}
