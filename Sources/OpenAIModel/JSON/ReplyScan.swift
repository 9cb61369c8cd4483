/// Reading the reply text out of a chat completion or a stream chunk in one
/// pass over its bytes, without building a jansson tree.
///
/// jansson spends about 110,000 instructions parsing a typical 700-byte
/// completion and 50,000 on each 250-byte stream chunk, more than libcurl
/// spends on the whole HTTP exchange. The scan checks that the whole text is
/// valid JSON (the grammar of RFC 8259, UTF-8 included) while it looks for
/// the few members it needs.
///
/// It answers only when the answer is certain to be what the jansson path
/// gives (`ChatEndpoint.replyText`, `ChatStream`); on anything else - text
/// that is not valid JSON, a top level that is not an object, a member on
/// the path that appears twice, a key written with escapes, "\u0000" in a
/// string, a number jansson might refuse as too large, nesting deeper than 64
/// - it returns nil and the caller parses with jansson as before, so results
/// and error messages do not change.
enum ReplyScan {
    /// Which members to pick out.
    enum Shape {
        /// choices[0].message.content
        case completion
        /// choices[*].delta.content and choices[*].finish_reason
        case chunk
    }

    /// A string value found: its bytes between the quotes.
    struct Piece {
        var start: Int
        var end: Int
        var escaped: Bool
    }

    struct Result {
        /// completion: the content of choices[0] (if a string); chunk: the
        /// string contents of the choices, in order.
        var pieces: [Piece] = []
        /// completion: choices[0].message.content is present but not a string.
        var otherContent = false
        /// chunk: some choice has a string finish_reason.
        var finished = false
        /// A top-level "error" member.
        var hasError = false
    }

    /// The text of choices[0].message.content of a completion, or nil when
    /// the jansson path must decide.
    static func completionContent(_ body: [UInt8]) -> String? {
        body.withUnsafeBytes { b -> String? in
            guard let r = scan(b, .completion), !r.otherContent, r.pieces.count == 1 else { return nil }
            var out: [UInt8] = []
            decode(b, r.pieces[0], into: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Scans `bytes`; nil when the jansson path must decide.
    static func scan(_ bytes: UnsafeRawBufferPointer, _ shape: Shape) -> Result? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        var s = Scanner(p: base.assumingMemoryBound(to: UInt8.self), n: bytes.count, shape: shape)
        s.ws()
        guard s.i < s.n, s.p[s.i] == 123, s.object(.root) else { return nil }
        s.ws()
        guard s.i == s.n else { return nil }
        return s.result
    }

    /// Appends the UTF-8 of a piece found by `scan` to `out`, escapes
    /// resolved.
    static func decode(_ bytes: UnsafeRawBufferPointer, _ piece: Piece, into out: inout [UInt8]) {
        let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if !piece.escaped {
            out.append(contentsOf: UnsafeBufferPointer(start: p + piece.start, count: piece.end - piece.start))
            return
        }
        var i = piece.start
        while i < piece.end {
            let c = p[i]
            if c != 92 {
                out.append(c)
                i += 1
                continue
            }
            let e = p[i + 1]
            i += 2
            switch e {
            case 98: out.append(8)     // \b
            case 102: out.append(12)   // \f
            case 110: out.append(10)   // \n
            case 114: out.append(13)   // \r
            case 116: out.append(9)    // \t
            case 117:                  // \uXXXX, a checked surrogate pair
                var v = hex4(p + i)
                i += 4
                if v >= 0xD800 && v <= 0xDBFF {
                    let lo = hex4(p + i + 2)
                    i += 6
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                }
                appendUTF8(v, &out)
            default: out.append(e)     // " \ /
            }
        }
    }

    private static func hex4(_ p: UnsafePointer<UInt8>) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | UInt32(hexValue(p[k])) }
        return v
    }

    /// 0...15, or 255 for a byte that is not a hex digit.
    @inline(__always)
    fileprivate static func hexValue(_ c: UInt8) -> UInt8 {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return 255
        }
    }

    private static func appendUTF8(_ v: UInt32, _ out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | (v >> 12) & 0x3F))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }
}

/// The recursive-descent scanner behind ReplyScan. Every function returns
/// false as soon as the text is invalid or the scan gives up.
private struct Scanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    let shape: ReplyScan.Shape
    var i = 0
    var depth = 0
    var result = ReplyScan.Result()

    static let maxDepth = 64

    /// Where a container sits on the path to the members of interest.
    enum Role: Equatable {
        case root, choices, choice(Int), message, other
    }

    init(p: UnsafePointer<UInt8>, n: Int, shape: ReplyScan.Shape) {
        self.p = p
        self.n = n
        self.shape = shape
    }

    @inline(__always)
    mutating func ws() {
        while i < n {
            let c = p[i]
            if c == 32 || c == 10 || c == 13 || c == 9 { i += 1 } else { return }
        }
    }

    /// The key at `i` (after its opening quote was seen), compared with the
    /// names that matter; returns which one, 0 for none, -1 on failure.
    /// Keys with escapes give up (they could spell a name that matters).
    private mutating func key() -> Int {
        let start = i + 1
        var escaped = false
        guard string(&escaped) else { return -1 }
        if escaped { return -1 }
        let len = i - 1 - start
        let k = p + start
        func eq(_ s: StaticString) -> Bool {
            guard s.utf8CodeUnitCount == len else { return false }
            let t = s.utf8Start
            for j in 0..<len where k[j] != t[j] { return false }
            return true
        }
        switch len {
        case 5: return eq("error") ? Scanner.kError : eq("delta") ? Scanner.kDelta : 0
        case 7: return eq("choices") ? Scanner.kChoices : eq("message") ? Scanner.kMessage
            : eq("content") ? Scanner.kContent : 0
        case 13: return eq("finish_reason") ? Scanner.kFinish : 0
        default: return 0
        }
    }

    static let kError = 1, kChoices = 2, kMessage = 3, kContent = 4, kFinish = 5, kDelta = 6

    mutating func object(_ role: Role) -> Bool {
        depth += 1
        guard depth <= Scanner.maxDepth else { return false }
        defer { depth -= 1 }
        i += 1  // {
        ws()
        guard i < n else { return false }
        if p[i] == 125 { i += 1; return true }
        var seen: UInt32 = 0
        while true {
            guard i < n, p[i] == 34 else { return false }
            var k = key()
            if k < 0 { return false }
            // The names that matter where they matter; anything else is 0.
            switch (role, k) {
            case (.root, Scanner.kError), (.root, Scanner.kChoices): break
            case (.choice, Scanner.kFinish): break
            case (.choice, Scanner.kMessage): if shape != .completion { k = 0 }
            case (.choice, Scanner.kDelta): if shape != .chunk { k = 0 }
            case (.message, Scanner.kContent): break
            default: k = 0
            }
            if k != 0 {
                let bit: UInt32 = 1 << UInt32(k)
                if seen & bit != 0 { return false }  // a duplicate on the path: jansson decides
                seen |= bit
            }
            ws()
            guard i < n, p[i] == 58 else { return false }
            i += 1
            ws()
            guard i < n else { return false }
            switch k {
            case Scanner.kError:
                result.hasError = true
                guard value(.other) else { return false }
            case Scanner.kChoices:
                guard value(.choices) else { return false }
            case Scanner.kMessage, Scanner.kDelta:
                guard value(.message) else { return false }
            case Scanner.kFinish:
                if p[i] == 34 {
                    var escaped = false
                    guard string(&escaped) else { return false }
                    result.finished = true
                } else {
                    guard value(.other) else { return false }
                }
            case Scanner.kContent:
                if p[i] == 34 {
                    let start = i + 1
                    var escaped = false
                    guard string(&escaped) else { return false }
                    result.pieces.append(ReplyScan.Piece(start: start, end: i - 1, escaped: escaped))
                } else {
                    if shape == .completion { result.otherContent = true }
                    guard value(.other) else { return false }
                }
            default:
                guard value(.other) else { return false }
            }
            switch afterElement(closing: 125) {
            case .more: continue
            case .closed: return true
            case .invalid: return false
            }
        }
    }

    enum Next { case more, closed, invalid }

    /// After a member or an element: a comma (white space after it skipped),
    /// the container's closing byte, or anything else, which is invalid.
    @inline(__always)
    mutating func afterElement(closing: UInt8) -> Next {
        ws()
        guard i < n else { return .invalid }
        if p[i] == 44 {
            i += 1
            ws()
            return .more
        }
        if p[i] == closing {
            i += 1
            return .closed
        }
        return .invalid
    }

    mutating func array(_ role: Role) -> Bool {
        depth += 1
        guard depth <= Scanner.maxDepth else { return false }
        defer { depth -= 1 }
        i += 1  // [
        ws()
        guard i < n else { return false }
        if p[i] == 93 { i += 1; return true }
        var index = 0
        while true {
            var child = Role.other
            if role == .choices {
                // A completion's reply is in choices[0]; a chunk's in every choice.
                child = (shape == .chunk || index == 0) ? .choice(index) : .other
            }
            guard value(child) else { return false }
            index += 1
            switch afterElement(closing: 93) {
            case .more: continue
            case .closed: return true
            case .invalid: return false
            }
        }
    }

    /// A value starting at `i` (white space already skipped).
    mutating func value(_ role: Role) -> Bool {
        guard i < n else { return false }
        switch p[i] {
        case 123:
            // Only objects carry the roles on; a role on anything else is moot.
            return object(role)
        case 91:
            return array(role == .choices ? .choices : .other)
        case 34:
            var escaped = false
            return string(&escaped)
        case 116: return literal("true")
        case 102: return literal("false")
        case 110: return literal("null")
        default: return number()
        }
    }

    mutating func literal(_ s: StaticString) -> Bool {
        let len = s.utf8CodeUnitCount
        guard n - i >= len else { return false }
        let t = s.utf8Start
        for j in 0..<len where p[i + j] != t[j] { return false }
        i += len
        return true
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? - and gives up on
    /// integers of more than 18 digits and exponents of more than 2 digits
    /// (jansson refuses integers beyond 64 bits and reals that overflow).
    mutating func number() -> Bool {
        let start = i
        if i < n && p[i] == 45 { i += 1 }
        guard i < n else { return false }
        if p[i] == 48 {
            i += 1
        } else if p[i] >= 49 && p[i] <= 57 {
            while i < n && p[i] >= 48 && p[i] <= 57 { i += 1 }
        } else {
            return false
        }
        let intDigits = i - start
        var isReal = false
        if i < n && p[i] == 46 {
            i += 1
            let f = i
            while i < n && p[i] >= 48 && p[i] <= 57 { i += 1 }
            guard i > f else { return false }
            isReal = true
        }
        if i < n && (p[i] == 101 || p[i] == 69) {
            i += 1
            if i < n && (p[i] == 43 || p[i] == 45) { i += 1 }
            let e = i
            while i < n && p[i] >= 48 && p[i] <= 57 { i += 1 }
            guard i > e, i - e <= 2 else { return false }
            isReal = true
        }
        if !isReal && intDigits > 18 { return false }
        return i - start <= 40
    }

    /// A string starting at the quote at `i`; afterwards `i` is past the
    /// closing quote. Checks escapes (surrogates paired, no \u0000) and the
    /// UTF-8 of the raw bytes (no overlong forms, no surrogates, at most
    /// U+10FFFF).
    mutating func string(_ escaped: inout Bool) -> Bool {
        i += 1
        while i < n {
            // Plain ASCII runs first, in a local index: eight bytes at a time
            // while none of them is a control byte, non-ASCII, '"' or '\\'.
            var j = i
            let raw = UnsafeRawPointer(p)
            while n - j >= 8 {
                let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                let quote = w ^ 0x2222_2222_2222_2222, slash = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let special = (w &- 0x2020_2020_2020_2020) | w | (quote &- ones) | (slash &- ones)
                if special & highs != 0 { break }
                j += 8
            }
            while j < n {
                let c = p[j]
                if c < 0x20 || c >= 0x80 || c == 34 || c == 92 { break }
                j += 1
            }
            i = j
            guard i < n else { return false }
            let c = p[i]
            if c == 34 {
                i += 1
                return true
            }
            if c == 92 {
                escaped = true
                guard i + 1 < n else { return false }
                switch p[i + 1] {
                case 34, 92, 47, 98, 102, 110, 114, 116:
                    i += 2
                case 117:
                    guard let v = hex4(at: i + 2), v != 0 else { return false }
                    i += 6
                    if v >= 0xDC00 && v <= 0xDFFF { return false }
                    if v >= 0xD800 && v <= 0xDBFF {
                        guard i + 1 < n, p[i] == 92, p[i + 1] == 117, let lo = hex4(at: i + 2),
                              lo >= 0xDC00 && lo <= 0xDFFF else { return false }
                        i += 6
                    }
                default:
                    return false
                }
                continue
            }
            if c < 0x20 { return false }
            // A multi-byte UTF-8 sequence.
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return false
            }
            guard n - i > need else { return false }
            let c1 = p[i + 1]
            guard c1 >= lo && c1 <= hi else { return false }
            var k = 2
            while k <= need {
                guard p[i + k] & 0xC0 == 0x80 else { return false }
                k += 1
            }
            i += need + 1
        }
        return false
    }

    private func hex4(at j: Int) -> UInt32? {
        guard n - j >= 4 else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let d = ReplyScan.hexValue(p[j + k])
            if d == 255 { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}
