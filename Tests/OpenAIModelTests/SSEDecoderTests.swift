import Testing

@testable import OpenAIModel

/// Decodes `bytes` fed in the given chunks; returns the events, plus the
/// events `finish` emitted (always none).
private func decode(
    _ chunks: [[UInt8]], decoder: SSEDecoder = SSEDecoder()
) throws(OMError) -> [SSEEvent] {
    var d = decoder
    var events: [SSEEvent] = []
    for c in chunks {
        try c.withBytes { (b) throws(OMError) in
            try d.feed(b) { (e) throws(OMError) in events.append(e) }
        }
    }
    try d.finish { (e) throws(OMError) in events.append(e) }
    return events
}

private func decode(_ s: String) throws(OMError) -> [SSEEvent] {
    try decode([Array(s.utf8)])
}

private func ev(_ data: String, _ event: String? = nil, _ id: String? = nil) -> SSEEvent {
    SSEEvent(event: event, data: Array(data.utf8), id: id)
}

@Suite struct SSEDecoderTests {
    @Test func simpleEvents() throws {
        #expect(try decode("data: hello\n\n") == [ev("hello")])
        #expect(try decode("data: a\n\ndata: b\n\n") == [ev("a"), ev("b")])
        #expect(try decode("data: [DONE]\n\n") == [ev("[DONE]")])
        #expect(try decode("") == [])
    }

    @Test func everyLineEnding() throws {
        let expected = [ev("a\nb", "x", "1"), ev("c", nil, "1")]
        for nl in ["\n", "\r", "\r\n"] {
            let s = "event: x\(nl)id: 1\(nl)data: a\(nl)data: b\(nl)\(nl)data: c\(nl)\(nl)"
            #expect(try decode(s) == expected, "line ending \(Array(nl.utf8))")
        }
        // Mixed endings in one stream.
        #expect(try decode("data: a\r\ndata: b\rdata: c\n\r\n") == [ev("a\nb\nc")])
        // CR CR is two line ends (a blank line), CR LF is one.
        #expect(try decode("data: a\r\rdata: b\r\n\r\n") == [ev("a"), ev("b")])
    }

    @Test func crAtChunkEndThenLF() throws {
        // "data: a\r" | "\ndata: b\r\n\r\n": the CR LF is one line end, so one event.
        let events = try decode([Array("data: a\r".utf8), Array("\ndata: b\r\n\r\n".utf8)])
        #expect(events == [ev("a\nb")])
        // A CR ending a chunk, then the blank line's CR LF split again.
        let events2 = try decode([
            Array("data: a\r".utf8), Array("\n\r".utf8), Array("\ndata: b\r".utf8), Array("\r".utf8),
        ])
        #expect(events2 == [ev("a"), ev("b")])
        // A CR at a chunk end followed by a non-LF byte.
        let events3 = try decode([Array("data: a\r".utf8), Array("data: b\n\n".utf8)])
        #expect(events3 == [ev("a\nb")])
    }

    /// A stream exercising every feature; fed whole, split at every index,
    /// split in three places, and byte by byte, it must give the same events.
    static let richStream: [UInt8] = {
        var s: [UInt8] = [0xEF, 0xBB, 0xBF]
        s += Array(
            (": comment at start\r\n"
                + "event: response.output_text.delta\r\n"
                + "id: 42\r\n"
                + "data: {\"delta\":\"héllo 😀 wörld — 中文\"}\r\n"
                + "\r\n"
                + "retry: 1000\n"
                + "data:no space\n"
                + "data:  two spaces\n"
                + "data\n"
                + "unknown: field\n"
                + "\n"
                + ":keep-alive\r"
                + "\r"
                + "event: done\r"
                + "data: [DONE]\r"
                + "\r"
                + "id\n"
                + "data: after id reset\n\n"
                + "event: ignored without data\n\n"
                + "data: last\r\n\r\n"
                + "data: incomplete at EOF\n").utf8)
        return s
    }()

    static let richExpected: [SSEEvent] = [
        ev("{\"delta\":\"héllo 😀 wörld — 中文\"}", "response.output_text.delta", "42"),
        ev("no space\n two spaces\n", nil, "42"),
        ev("[DONE]", "done", "42"),
        ev("after id reset", nil, nil),
        ev("last", nil, nil),
    ]

    @Test func richStreamWhole() throws {
        #expect(try decode([SSEDecoderTests.richStream]) == SSEDecoderTests.richExpected)
    }

    @Test func everySplitPosition() throws {
        let s = SSEDecoderTests.richStream
        for i in 0...s.count {
            let events = try decode([Array(s[..<i]), Array(s[i...])])
            #expect(events == SSEDecoderTests.richExpected, "split at \(i)")
        }
    }

    @Test func byteByByteAndRandomSplits() throws {
        let s = SSEDecoderTests.richStream
        #expect(try decode(s.map { [$0] }) == SSEDecoderTests.richExpected)
        var rng = SeededRandom(seed: 7)
        for _ in 0..<500 {
            var cuts = (0..<3).map { _ in Int.random(in: 0...s.count, using: &rng) }
            cuts.sort()
            let chunks = [
                Array(s[..<cuts[0]]), Array(s[cuts[0]..<cuts[1]]),
                Array(s[cuts[1]..<cuts[2]]), Array(s[cuts[2]...]),
            ]
            #expect(try decode(chunks) == SSEDecoderTests.richExpected, "cuts \(cuts)")
        }
    }

    @Test func multiByteCharactersSplit() throws {
        let s = Array("event: é\ndata: 😀中\n\n".utf8)
        for i in 0...s.count {
            for j in i...s.count {
                let events = try decode([Array(s[..<i]), Array(s[i..<j]), Array(s[j...])])
                #expect(events == [ev("😀中", "é")])
            }
        }
    }

    @Test func bom() throws {
        #expect(try decode("\u{FEFF}data: x\n\n") == [ev("x")])
        // Split BOM.
        #expect(try decode([[0xEF], [0xBB], [0xBF], Array("data: x\n\n".utf8)]) == [ev("x")])
        // Only one BOM is skipped: a second one makes the field name unknown.
        #expect(try decode("\u{FEFF}\u{FEFF}data: x\n\ndata: y\n\n") == [ev("y")])
        // A BOM prefix that is not a BOM is kept as line bytes (unknown field here).
        #expect(try decode([[0xEF, 0xBB], Array("data: x\n\ndata: y\n\n".utf8)]) == [ev("y")])
        // BOM not at the start of the stream is not skipped.
        #expect(try decode("data: a\n\n\u{FEFF}data: b\n\n") == [ev("a")])
        // BOM inside data is data.
        #expect(try decode("data: \u{FEFF}z\n\n") == [ev("\u{FEFF}z")])
    }

    @Test func commentsAndFields() throws {
        #expect(try decode(": hello\n\n") == [])
        #expect(try decode(":\n:x\ndata: a\n: between\ndata: b\n\n") == [ev("a\nb")])
        #expect(try decode("retry: 10\nfoo: bar\nDATA: no\ndata: yes\n\n") == [ev("yes")])
        // An event type without data is dropped, and does not leak into the next event.
        #expect(try decode("event: foo\n\ndata: x\n\n") == [ev("x")])
        // `event:` with an empty value means "message" (nil).
        #expect(try decode("event:\ndata: x\n\n") == [ev("x")])
        // The event type is reset after each dispatch.
        #expect(try decode("event: a\ndata: 1\n\ndata: 2\n\n") == [ev("1", "a"), ev("2")])
        // A colon in the value is part of the value.
        #expect(try decode("data: a: b:c\n\n") == [ev("a: b:c")])
        // Only one leading space is removed; trailing spaces are kept.
        #expect(try decode("data:   x  \n\n") == [ev("  x  ")])
    }

    @Test func specExamples() throws {
        // From the WHATWG spec: "data\n\ndata\ndata\n\ndata:" gives "" and "\n";
        // the final incomplete event is discarded.
        #expect(try decode("data\n\ndata\ndata\n\ndata:") == [ev(""), ev("\n")])
        #expect(try decode("data:test\n\ndata: test\n\n") == [ev("test"), ev("test")])
        #expect(
            try decode("data: YHOO\ndata: +2\ndata: 10\n\n") == [ev("YHOO\n+2\n10")])
    }

    @Test func lastEventID() throws {
        #expect(
            try decode("id: 7\ndata: x\n\ndata: y\n\nid: 8\ndata: z\n\n")
                == [ev("x", nil, "7"), ev("y", nil, "7"), ev("z", nil, "8")])
        // `id` alone resets it; an id with NUL is ignored.
        #expect(try decode("id: 1\ndata: a\n\nid\ndata: b\n\n") == [ev("a", nil, "1"), ev("b")])
        #expect(try decode("id: 1\nid: x\u{0}y\ndata: a\n\n") == [ev("a", nil, "1")])
        // An id given in an event without data still sets the last event ID.
        #expect(try decode("id: 5\n\ndata: a\n\n") == [ev("a", nil, "5")])
    }

    @Test func incompleteEventAtEOFDiscarded() throws {
        #expect(try decode("data: x\n") == [])
        #expect(try decode("data: x") == [])
        #expect(try decode("data: a\n\ndata: x\nevent: y\n") == [ev("a")])
        var d = SSEDecoder()
        var n = 0
        try Array("data: a\n\ndata: b".utf8).withBytes { (b) throws(OMError) in
            try d.feed(b) { (_) throws(OMError) in n += 1 }
        }
        #expect(n == 1)
        #expect(d.hasPendingInput)
        try d.finish { (_) throws(OMError) in n += 1 }
        #expect(n == 1)
        #expect(!d.hasPendingInput)
        // After finish the decoder starts a new stream.
        try Array("data: c\n\n".utf8).withBytes { (b) throws(OMError) in
            try d.feed(b) { (_) throws(OMError) in n += 1 }
        }
        #expect(n == 2)
    }

    @Test func hugeLineGuard() throws {
        let small = SSEDecoder(maxLineLength: 1000)
        // Exactly at the limit is fine, one more byte throws, whole or in chunks.
        let ok = Array("data: ".utf8) + [UInt8](repeating: 0x61, count: 994) + [0x0A, 0x0A]
        #expect(try decode([ok], decoder: small).first?.data.count == 994)
        let long = Array("data: ".utf8) + [UInt8](repeating: 0x61, count: 995) + [0x0A, 0x0A]
        #expect(throws: OMError.self) { try decode([long], decoder: small) }
        let chunks = stride(from: 0, to: long.count, by: 100).map {
            Array(long[$0..<min($0 + 100, long.count)])
        }
        #expect(throws: OMError.self) { try decode(chunks, decoder: small) }
        // No line end ever: it throws while buffering, not at the end.
        var d = small
        var threw = false
        let block = [UInt8](repeating: 0x61, count: 300)
        for _ in 0..<10 where !threw {
            do throws(OMError) {
                try block.withBytes { (b) throws(OMError) in
                    try d.feed(b) { (_) throws(OMError) in }
                }
            } catch {
                if case .parse = error { threw = true }
            }
        }
        #expect(threw)
        // Many data lines adding up over the limit.
        var many: [UInt8] = []
        for _ in 0..<20 { many += Array("data: ".utf8) + [UInt8](repeating: 0x62, count: 90) + [0x0A] }
        #expect(throws: OMError.self) { try decode([many], decoder: small) }
    }

    @Test func defaultLimitIs64MB() throws {
        #expect(SSEDecoder().maxLineLength == 64 << 20)
        var d = SSEDecoder()
        let block = [UInt8](repeating: 0x61, count: 1 << 20)
        var error: OMError?
        var fed = 0
        while error == nil && fed < 80 {
            do throws(OMError) {
                try block.withBytes { (b) throws(OMError) in
                    try d.feed(b) { (_) throws(OMError) in }
                }
                fed += 1
            } catch let e {
                error = e
            }
        }
        #expect(fed == 64)
        if case .parse(let m) = error {
            #expect(m.contains("longer than"))
        } else {
            Issue.record("expected a parse error, got \(String(describing: error))")
        }
    }

    @Test func emitErrorPropagates() throws {
        var d = SSEDecoder()
        var seen = 0
        #expect(throws: OMError.cancelled("stop")) {
            try Array("data: a\n\ndata: b\n\ndata: c\n\n".utf8).withBytes { (b) throws(OMError) in
                try d.feed(b) { (_) throws(OMError) in
                    seen += 1
                    if seen == 2 { throw .cancelled("stop") }
                }
            }
        }
        #expect(seen == 2)
    }

    @Test func manyEvents() throws {
        var s: [UInt8] = []
        for i in 0..<100_000 {
            s += Array("event: response.output_text.delta\ndata: {\"i\":\(i)}\n\n".utf8)
        }
        var d = SSEDecoder()
        var count = 0
        var last: SSEEvent?
        let t0 = monotonicSeconds()
        // 16 KiB network-sized chunks.
        var off = 0
        try s.withBytes { (all) throws(OMError) in
            while off < all.count {
                let end = min(off + 16384, all.count)
                try d.feed(UnsafeRawBufferPointer(rebasing: all[off..<end])) { (e) throws(OMError) in
                    count += 1
                    last = e
                }
                off = end
            }
        }
        let t1 = monotonicSeconds()
        #expect(count == 100_000)
        #expect(last == ev("{\"i\":99999}", "response.output_text.delta"))
        print("SSE: 100,000 events (\(s.count) bytes) in \(Int((t1 - t0) * 1000)) ms")
    }

    /// Random bytes biased to the stream's special characters, in random
    /// chunks: never a trap, and the same events whatever the chunking.
    @Test func fuzz() throws {
        var rng = SeededRandom(seed: 99)
        let alphabet: [UInt8] = Array("data:event:id: \r\n\n\nx".utf8) + [0xEF, 0xBB, 0xBF, 0, 0xFF]
        for _ in 0..<3000 {
            let n = Int(rng.next() % 200)
            var s = [UInt8]()
            for _ in 0..<n {
                s.append(rng.next() % 8 == 0
                    ? UInt8(truncatingIfNeeded: rng.next())
                    : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let small = SSEDecoder(maxLineLength: 64)
            let whole = Result { () throws(OMError) in try decode([s], decoder: small) }
            let cut = Int(rng.next() % UInt64(n + 1))
            let split = Result { () throws(OMError) in
                try decode([Array(s[..<cut]), Array(s[cut...])], decoder: small)
            }
            let bytewise = Result { () throws(OMError) in try decode(s.map { [$0] }, decoder: small) }
            #expect(whole == split)
            #expect(whole == bytewise)
        }
    }

    @Test func emptyAndNilBuffers() throws {
        var d = SSEDecoder()
        try d.feed(UnsafeRawBufferPointer(start: nil, count: 0)) { (_) throws(OMError) in }
        #expect(!d.hasPendingInput)
    }
}
