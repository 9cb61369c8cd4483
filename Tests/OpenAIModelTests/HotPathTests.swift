import Testing
import Glibc
@testable import OpenAIModel

// Tests of the per-request paths made faster for the benchmarks (bench/):
// what they produce must not change.

@Suite struct RandomHex {
    @Test(arguments: [0, 1, 6, 7, 8, 9, 12, 16, 33])
    func lengthAndDigits(_ n: Int) {
        let s = Sys.randomHex(n)
        #expect(s.utf8.count == 2 * n)
        #expect(s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
    }

    @Test func keysDiffer() {
        var seen = Set<String>()
        for _ in 0..<1000 { seen.insert(Sys.randomHex(16)) }
        #expect(seen.count == 1000)
    }

    @Test func everyByteValueAppears() {
        // Every byte of each word is used: over many draws each of the 16
        // digits shows in every position.
        var positions = [Set<UInt8>](repeating: [], count: 32)
        for _ in 0..<2000 {
            for (i, c) in Sys.randomHex(16).utf8.enumerated() { positions[i].insert(c) }
        }
        #expect(positions.allSatisfy { $0.count == 16 })
    }
}

@Suite struct HeaderLines {
    private func feed(_ lines: [String]) -> Transfer {
        let t = Transfer()
        for l in lines {
            var bytes = Array(l.utf8)
            bytes.withUnsafeMutableBytes { t.header(UnsafeRawBufferPointer($0)) }
        }
        return t
    }

    @Test func statusLines() {
        #expect(feed(["HTTP/1.1 200 OK\r\n"]).status == 200)
        #expect(feed(["HTTP/2 429\r\n"]).status == 429)
        #expect(feed(["HTTP/1.1  503  Service Unavailable\r\n"]).status == 503)
        #expect(feed(["HTTP/1.1 abc\r\n"]).status == 0)
        #expect(feed(["HTTP/1.1\r\n"]).status == 0)
        #expect(feed(["HTTP/1.0 404\n"]).status == 404)
    }

    @Test func namesAndValues() {
        let t = feed(["HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n",
                      "X-Request-ID:   req_123 \t\r\n", "retry-after-ms:1500\r\n", "Empty:\r\n",
                      "no colon here\r\n", "X-Odd: a: b\r\n", "\r\n"])
        #expect(t.headers.items.map { $0.name } == ["content-type", "x-request-id", "retry-after-ms", "empty", "x-odd"])
        #expect(t.headers["content-type"] == "application/json")
        #expect(t.headers["x-request-id"] == "req_123")
        #expect(t.headers["retry-after-ms"] == "1500")
        #expect(t.headers["empty"] == "")
        #expect(t.headers["x-odd"] == "a: b")
    }

    @Test func aNewStatusLineStartsOver() {
        let t = feed(["HTTP/1.1 100 Continue\r\n", "X-A: 1\r\n", "\r\n", "HTTP/1.1 201 Created\r\n", "X-B: 2\r\n"])
        #expect(t.status == 201)
        #expect(t.headers["x-a"] == nil)
        #expect(t.headers["x-b"] == "2")
    }

    @Test func unicodeWhiteSpaceAndBadBytes() {
        let t = feed(["X-Nbsp: \u{00A0}value\u{2003}\r\n", "X-Utf8: caf\u{E9}\r\n"])
        #expect(t.headers["x-nbsp"] == "value")
        #expect(t.headers["x-utf8"] == "caf\u{E9}")
        let u = Transfer()
        var bad: [UInt8] = Array("X-Bad: a".utf8) + [0xFF] + Array("b\r\n".utf8)
        bad.withUnsafeMutableBytes { u.header(UnsafeRawBufferPointer($0)) }
        #expect(u.headers["x-bad"] == "a\u{FFFD}b")
    }
}

@Suite struct DialogueSentiment {
    private func config(file: String?) throws -> Config {
        var c = Config(apiKey: nil, base: try BaseURL.parse("http://127.0.0.1:9/v1"), assistantsFile: "",
                       dataDir: "/nonexistent-openaimodel-test", logger: .off)
        if let file { c.dialogueFile = file } else { c.noDialogueFile = true }
        return c
    }

    private func exchange(_ reply: String) -> [DialogueEntry] {
        [DialogueEntry(role: "system", content: "Be brief."), DialogueEntry(role: "user", content: "How was it?"),
         DialogueEntry(role: "assistant", content: reply)]
    }

    @Test func inMemoryRepliesAreScoredWhenRead() throws {
        let store = DialogueStore(config: try config(file: nil))
        try store.append(exchange("It was wonderful, I loved it!"))
        try store.append(exchange("It was awful and boring."))
        #expect(try store.entries(sentiments: false).compactMap { $0.sentiment }.isEmpty)
        let all = try store.entries()
        #expect(all.map { $0.sentiment } == [nil, nil, "positive", nil, nil, "negative"])
        #expect(all[2].sentiment == SentimentAnalyzer.classify(all[2].content).rawValue)
        // Scored once, kept.
        #expect(try store.entries(sentiments: false).map { $0.sentiment } == all.map { $0.sentiment })
        try store.append(exchange("Fine."))
        #expect(try store.entries().last?.sentiment == SentimentAnalyzer.classify("Fine.").rawValue)
    }

    @Test func aGivenSentimentIsKept() throws {
        let store = DialogueStore(config: try config(file: nil))
        try store.append([DialogueEntry(role: "assistant", content: "awful", sentiment: "positive")])
        #expect(try store.entries().first?.sentiment == "positive")
    }

    @Test func fileRepliesAreScoredAtOnce() throws {
        let path = "/tmp/openaimodel-test-dialogue-\(Sys.pid())-\(Sys.randomHex(4)).jsonl"
        defer { _ = unlink(path) }
        let store = DialogueStore(config: try config(file: path))
        try store.append(exchange("It was wonderful, I loved it!"))
        #expect(try store.entries(sentiments: false).last?.sentiment == "positive")
        let saved = try DialogueStore.read(path)
        #expect(saved.last == DialogueEntry(role: "assistant", content: "It was wonderful, I loved it!",
                                            sentiment: "positive"))
    }
}

// MARK: ReplyScan against jansson

/// What the jansson path makes of a completion: the reply text or an error.
private func janssonReply(_ bytes: [UInt8]) -> String? {
    guard let j = try? JSON.parse(bytes, what: "test") else { return nil }
    return try? ChatEndpoint.replyText(j, requestID: nil)
}

/// What the jansson path of ChatStream makes of a chunk: nil when it throws
/// (invalid JSON, an error member), else the pieces and the finished flag.
private func janssonChunk(_ bytes: [UInt8]) -> (pieces: [[UInt8]], finished: Bool)? {
    guard let payload = try? JSON.parse(bytes, what: "test"), payload["error"] == nil else { return nil }
    var pieces: [[UInt8]] = []
    var finished = false
    guard let choices = payload["choices"], choices.isArray else { return (pieces, finished) }
    for choice in choices.elements {
        if choice["finish_reason"]?.string != nil { finished = true }
        guard let content = choice["delta"]?["content"] else { continue }
        if let b = content.withStringBytes({ Array($0) }), !b.isEmpty { pieces.append(b) }
    }
    return (pieces, finished)
}

private func scanChunk(_ bytes: [UInt8]) -> (pieces: [[UInt8]], finished: Bool, hasError: Bool)? {
    bytes.withUnsafeBytes { b -> (pieces: [[UInt8]], finished: Bool, hasError: Bool)? in
        guard let r = ReplyScan.scan(b, .chunk) else { return nil }
        let pieces = r.pieces.map { p -> [UInt8] in
            var out: [UInt8] = []
            ReplyScan.decode(b, p, into: &out)
            return out
        }.filter { !$0.isEmpty }
        return (pieces, r.finished, r.hasError)
    }
}

/// Checks the promise: whenever the scan answers, jansson gives the same.
private func agree(_ text: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    if let fast = ReplyScan.completionContent(text) {
        #expect(janssonReply(text) == fast, "completion: \(String(decoding: text, as: UTF8.self))",
                sourceLocation: sourceLocation)
    }
    if let fast = scanChunk(text), !fast.hasError {
        let slow = janssonChunk(text)
        #expect(slow != nil, "chunk: jansson refused \(String(decoding: text, as: UTF8.self))",
                sourceLocation: sourceLocation)
        if let slow {
            #expect(slow.pieces == fast.pieces && slow.finished == fast.finished,
                    "chunk: \(String(decoding: text, as: UTF8.self))", sourceLocation: sourceLocation)
        }
    }
}

/// A small seeded generator (xorshift64*), so failures repeat.
private struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2685821657736338717
    }
}

/// Random JSON-ish text built from the members the scan cares about.
private struct Generator {
    var rng: Seeded
    let keys = ["choices", "message", "delta", "content", "finish_reason", "error", "role", "index",
                "cont\\u0065nt", "refusal", "x"]
    let strings = ["hi", "", "Hello, world!", "caf\u{E9} \u{1F600}", "a\\nb", "quote \\\" back \\\\ slash",
                   "\\u00e9\\ud83d\\ude00", "\\u0000", "\\ud800", "\\udc00x", "tab\\t", "\\/", "stop",
                   "bad \\q", "\u{7F}"]
    let numbers = ["0", "-1", "3.25", "1e5", "-2.5E-3", "12345678901234567890", "1e400", "01", "-", "1.", ".5",
                   "123456789012345678", "9223372036854775807"]

    mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }

    mutating func value(_ depth: Int) -> String {
        switch rng.next() % (depth > 4 ? 4 : 7) {
        case 0: return "\"" + pick(strings) + "\""
        case 1: return pick(numbers)
        case 2: return pick(["true", "false", "null"])
        case 3: return "\"" + pick(strings) + "\""
        case 4, 5: return object(depth + 1)
        default: return array(depth + 1)
        }
    }

    mutating func object(_ depth: Int) -> String {
        let n = Int(rng.next() % 4)
        var parts: [String] = []
        for _ in 0..<n { parts.append("\"" + pick(keys) + "\"" + pick([":", " : ", ":"]) + value(depth)) }
        return "{" + parts.joined(separator: pick([",", ", ", ",\n"])) + "}"
    }

    mutating func array(_ depth: Int) -> String {
        let n = Int(rng.next() % 3)
        var parts: [String] = []
        for _ in 0..<n { parts.append(value(depth)) }
        return "[" + parts.joined(separator: ",") + "]"
    }

    /// A completion or chunk of the usual shape with random parts.
    mutating func shaped() -> String {
        let inner = pick(["message", "delta"])
        let content = rng.next() % 5 == 0 ? value(3) : "\"" + pick(strings) + "\""
        var choice = "{\"index\":0,\"\(inner)\":{\"role\":\"assistant\",\"content\":\(content)}"
        if rng.next() % 2 == 0 { choice += ",\"finish_reason\":" + pick(["\"stop\"", "null", "\"length\""]) }
        if rng.next() % 4 == 0 { choice += ",\"\(pick(keys))\":\(value(3))" }
        choice += "}"
        var choices = [choice]
        if rng.next() % 3 == 0 { choices.append(choice) }
        if rng.next() % 6 == 0 { choices.append(value(3)) }
        var doc = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[" + choices.joined(separator: ",") + "]"
        if rng.next() % 5 == 0 { doc += ",\"\(pick(keys))\":\(value(2))" }
        return doc + ",\"usage\":{\"total_tokens\":3}}"
    }

    mutating func mutate(_ s: String) -> [UInt8] {
        var b = Array(s.utf8)
        switch rng.next() % 6 {
        case 0: return b
        case 1: if !b.isEmpty { b.removeLast(Int(rng.next() % UInt64(b.count))) }
        case 2: if !b.isEmpty { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
        case 3: if !b.isEmpty { b.insert(pick([34, 92, 44, 125, 93, 0xC3, 0xED, 0xF4, 0, 10]),
                                         at: Int(rng.next() % UInt64(b.count))) }
        case 4: b += Array(pick([" ", "\n", "x", "}", " {}"]).utf8)
        default: if !b.isEmpty { b.remove(at: Int(rng.next() % UInt64(b.count))) }
        }
        return b
    }
}

@Suite struct ReplyScanTests {
    let completion = """
    {"id":"chatcmpl-9","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",\
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hello! \\"Quoted\\" \\u00e9 \\ud83d\\ude00\\n",\
    "refusal":null,"annotations":[]},"logprobs":{"content":[{"token":"Hi","logprob":-1.5e-05,"bytes":[72,105]}]},\
    "finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":12,"total_tokens":26},\
    "system_fingerprint":"fp_1"}
    """

    @Test func typicalCompletionTakesTheFastPath() {
        let b = Array(completion.utf8)
        let fast = ReplyScan.completionContent(b)
        #expect(fast == "Hello! \"Quoted\" \u{E9} \u{1F600}\n")
        #expect(fast == janssonReply(b))
    }

    @Test func typicalChunkTakesTheFastPath() {
        let chunk = Array("""
        {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" w\\u00f6rd"},\
        "logprobs":null,"finish_reason":null},{"index":1,"delta":{"content":"two"},"finish_reason":"stop"}],"usage":null}
        """.utf8)
        let fast = scanChunk(chunk)
        #expect(fast?.pieces == [Array(" w\u{F6}rd".utf8), Array("two".utf8)])
        #expect(fast?.finished == true)
        #expect(fast?.hasError == false)
        agree(chunk)
    }

    @Test(arguments: [
        "{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"no\"}}]}",      // refusal
        "{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}}]}",  // parts
        "{\"choices\":[]}", "{\"error\":{\"message\":\"x\"}}", "[1,2]", "\"text\"", "",
        "{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":\"b\"}}]}",        // duplicate
        "{\"choices\":[{\"message\":{\"cont\\u0065nt\":\"a\"}}]}",                     // escaped key
        "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}",                  // NUL
        "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"n\":123456789012345678901}",
        "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"n\":1e400}",
        "{\"choices\":[{\"message\":{\"content\":\"a\"}}]} x",
    ])
    func unusualTextIsLeftToJansson(_ text: String) {
        #expect(ReplyScan.completionContent(Array(text.utf8)) == nil)
    }

    @Test func invalidTextIsRefused() {
        for text in ["{\"choices\":[{\"message\":{\"content\":\"a\"}}]", "{\"choices\":[{\"message\":{\"content\":\"a\u{1}\"}}]}",
                     "{\"choices\":[{\"message\":{\"content\":\"\\ud800\"}}]}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}",
                     "{\"a\":tru}", "{\"a\" 1}", "{\"a\":1,}", "{,}", "{\"a\":[1,]}", "{\"a\":\"\\x\"}"] {
            #expect(ReplyScan.completionContent(Array(text.utf8)) == nil, "\(text)")
            #expect(janssonReply(Array(text.utf8)) == nil || ReplyScan.completionContent(Array(text.utf8)) == nil)
        }
        for bytes: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF], [0x80]] {
            let doc = Array("{\"choices\":[{\"message\":{\"content\":\"".utf8) + bytes + Array("\"}}]}".utf8)
            #expect(ReplyScan.completionContent(doc) == nil)
            #expect(janssonReply(doc) == nil)
        }
    }

    @Test func deepNestingIsLeftToJansson() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(ReplyScan.completionContent(Array("{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"d\":\(deep)}".utf8)) == nil)
        let ok = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(ReplyScan.completionContent(Array("{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"d\":\(ok)}".utf8)) == "a")
    }

    @Test func randomDocumentsAgreeWithJansson() {
        var g = Generator(rng: Seeded(state: 0x9E3779B97F4A7C15))
        var fastCompletions = 0, fastChunks = 0
        for round in 0..<100_000 {
            let text = round % 3 == 0 ? g.object(0) : g.shaped()
            let bytes = g.mutate(text)
            agree(bytes)
            if ReplyScan.completionContent(bytes) != nil { fastCompletions += 1 }
            if let c = scanChunk(bytes), !c.hasError { fastChunks += 1 }
        }
        // The fast path is actually taken for a good share of them.
        #expect(fastCompletions > 5_000)
        #expect(fastChunks > 5_000)
    }

    @Test func everyTruncationAgrees() {
        let b = Array(completion.utf8)
        for n in 0...b.count { agree(Array(b[0..<n])) }
    }
}

@Suite struct ChatBodyBytes {
    private func viaJansson(_ model: String, _ messages: [ChatMessage], _ maxTokens: Int, _ param: String,
                            _ stream: Bool) throws -> [UInt8] {
        let arr = try JSON.array()
        for m in messages { try arr.append(ChatEndpoint.message(m.role, m.content)) }
        return try ChatEndpoint.body(model: model, messages: arr, maxTokens: maxTokens, tokenParam: param,
                                     stream: stream).dumpBytes()
    }

    @Test func sameBytesAsJansson() throws {
        var rng = Seeded(state: 42)
        let pieces = ["Hello", " ", "\"", "\\", "/", "\n", "\r\n", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "\u{8}",
                      "\u{C}", "caf\u{E9}", "\u{2028}", "\u{1F600}", "</script>", "'", "{}", "[]", ":", ","]
        for round in 0..<2_000 {
            var messages: [ChatMessage] = []
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                var content = ""
                for _ in 0..<Int(rng.next() % 12) { content += pieces[Int(rng.next() % UInt64(pieces.count))] }
                messages.append(ChatMessage(role: ["system", "user", "assistant"][Int(rng.next() % 3)], content: content))
            }
            let model = round % 7 == 0 ? "my\"model\u{1}" : "gpt-4o-mini"
            let param = round % 2 == 0 ? "max_completion_tokens" : "max_tokens"
            let tokens = [0, 1, 800, 8000, -5, Int(Int32.max)][round % 6]
            let stream = round % 3 == 0
            #expect(ChatEndpoint.bodyBytes(model: model, messages: messages, maxTokens: tokens, tokenParam: param,
                                           stream: stream)
                    == (try viaJansson(model, messages, tokens, param, stream)))
        }
    }
}

@Suite struct UniqueKeys {
    @Test func hexAndUnique() {
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let k = Sys.uniqueKey()
            #expect(k.utf8.count == 32)
            #expect(k.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
            seen.insert(k)
        }
        #expect(seen.count == 20_000)
    }

    @Test func mixIsABijectionOnASample() {
        var seen = Set<UInt64>()
        for i in UInt64(0)..<50_000 { seen.insert(Sys.mix(i)) }
        #expect(seen.count == 50_000)
    }
}

@Suite struct Trimming {
    /// The Character-wise definition the fast path must agree with.
    private func reference(_ s: String) -> String {
        var start = s.startIndex, end = s.endIndex
        while start < end, s[start].isWhitespace { start = s.index(after: start) }
        while end > start, s[s.index(before: end)].isWhitespace { end = s.index(before: end) }
        return String(s[start..<end])
    }

    @Test(arguments: ["", " ", "a", " a ", "\n\tHello, world!\r\n", "Hello", "Hello ", " Hello", "\u{A0}x\u{A0}",
                      "x\u{2003}", "\u{301}a", "a\u{301}", " \u{301}a", "\r\nx\r\n", "~", "!?", "\u{7F}", "caf\u{E9}",
                      "\u{1F600} ok \u{1F600}", "\u{2028}line\u{2029}"])
    func sameAsCharacterWise(_ s: String) {
        #expect(s.trimmedWhitespace() == reference(s))
    }
}

@Suite struct DialogueLines {
    @Test func sameBytesAsJansson() throws {
        var rng = Seeded(state: 7)
        let pieces = ["Hi", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "caf\u{E9}", "\u{1F600}", "\u{2028}"]
        for round in 0..<2_000 {
            var content = ""
            for _ in 0..<Int(rng.next() % 10) { content += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let e = DialogueEntry(role: ["system", "user", "assistant"][round % 3], content: content,
                                  sentiment: round % 3 == 2 ? ["positive", "negative", "neutral"][Int(rng.next() % 3)] : nil)
            var line: [UInt8] = []
            e.appendLine(to: &line)
            #expect(line == (try e.json().dumpBytes()) + [10])
        }
    }
}

@Suite struct JSONLStrings {
    /// The escaping the writer must produce, a byte at a time.
    private func reference(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [34]
        for b in bytes {
            switch b {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, 110]
            case 13: out += [92, 114]
            case 9: out += [92, 116]
            case 0..<0x20: out += [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(34)
        return out
    }

    @Test func sameAsByteAtATime() throws {
        let path = "/tmp/openaimodel-test-jsonl-\(Sys.pid())-\(Sys.randomHex(4))"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let w = JSONLWriter(fd: fd, path: path)
        var rng = Seeded(state: 11)
        let alphabet: [[UInt8]] = [[65], [122], [32], [34], [92], [10], [13], [9], [0], [31], [127], [47],
                                   [0xC3, 0xA9], [0xE2, 0x80, 0xA8], [0xF0, 0x9F, 0x98, 0x80]]
        var expected: [UInt8] = []
        for round in 0..<3_000 {
            var s: [UInt8] = []
            let pieces = round % 10 == 0 ? Int(rng.next() % 3000) : Int(rng.next() % 40)
            for _ in 0..<pieces {
                // Mostly plain text, so long runs cross word boundaries.
                let a = rng.next() % 4 == 0 ? alphabet[Int(rng.next() % UInt64(alphabet.count))] : [UInt8(97 + rng.next() % 26)]
                s += a
            }
            try s.withUnsafeBytes { b in try Result { () throws(OMError) in try w.string(b) }.get() }
            expected += reference(s)
        }
        try Result { () throws(OMError) in try w.flush() }.get()
        var got = [UInt8](repeating: 0, count: expected.count + 16)
        let n = pread(fd, &got, got.count, 0)
        #expect(n == expected.count)
        #expect(Array(got[0..<max(n, 0)]) == expected)
    }
}
