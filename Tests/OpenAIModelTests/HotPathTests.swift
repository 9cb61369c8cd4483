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
