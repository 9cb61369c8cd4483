// libFuzzer targets for the parts of the library that read what others
// send: the SSE decoder, the CSV reader, the extraction of JSON from a
// model's reply, image type sniffing, the retry-header parsers and API error
// bodies. Compiled together with the library's sources into one module
// (Tests/fuzz/build.sh), so internal types are reachable; the binary is
// installed under one name per target (fuzz-sse, fuzz-csv, ...) and picks
// its target from that name.
//
// Besides not crashing, each target checks a property; a violation traps,
// which libFuzzer reports as a crash with the input saved.

import Glibc

enum FuzzTarget: String, CaseIterable {
    case sse, csv, reply, replyscan, sniff, retry, errorbody
}

nonisolated(unsafe) var fuzzTarget: FuzzTarget = .sse

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    var name = ""
    if let p = getenv("FUZZ_TARGET") {
        name = String(cString: p)
    } else if let a = argv.pointee?.pointee {
        let prog = String(cString: a)
        name = String(prog.split(separator: "/").last ?? "")
        if name.hasPrefix("fuzz-") { name.removeFirst(5) }
    }
    guard let t = FuzzTarget(rawValue: name) else {
        let all = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        fputs("unknown fuzz target '\(name)' (run as fuzz-<target> or set FUZZ_TARGET to one of: \(all))\n", stderr)
        exit(2)
    }
    fuzzTarget = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    switch fuzzTarget {
    case .sse: fuzzSSE(bytes)
    case .csv: fuzzCSV(bytes)
    case .reply: fuzzReply(bytes)
    case .replyscan: fuzzReplyScan(bytes)
    case .sniff: fuzzSniff(bytes)
    case .retry: fuzzRetry(bytes)
    case .errorbody: fuzzErrorBody(bytes)
    }
    return 0
}

func check(_ ok: Bool, _ what: @autoclosure () -> String) {
    if !ok {
        fputs("property violated: \(what())\n", stderr)
        abort()
    }
}

// MARK: - SSE

/// Decodes a stream whole and again cut at fuzzer-chosen points (the first
/// two bytes seed the cuts, one byte at a time up to a few hundred): the
/// events, and whether decoding failed, must be the same.
func fuzzSSE(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 2 else { return }
    var seed = UInt32(input[0]) | UInt32(input[1]) << 8
    let body = UnsafeRawBufferPointer(rebasing: input[2...])
    let limit = 512  // small, so the length limit is reached too

    func decode(_ cuts: [Int]) -> (events: [SSEEvent], failed: Bool) {
        var d = SSEDecoder(maxLineLength: limit)
        var events: [SSEEvent] = []
        var start = 0
        do throws(OMError) {
            for end in cuts + [body.count] where end >= start {
                try d.feed(UnsafeRawBufferPointer(rebasing: body[start..<end])) { ev in events.append(ev) }
                start = end
            }
            try d.finish { ev in events.append(ev) }
            return (events, false)
        } catch {
            return (events, true)
        }
    }

    var cuts: [Int] = []
    var at = 0
    while at < body.count {
        seed = seed &* 1_103_515_245 &+ 12345
        at += 1 + Int((seed >> 16) % 300)
        if at < body.count { cuts.append(at) }
    }
    let whole = decode([])
    let split = decode(cuts)
    let single = decode(Array(0..<body.count))
    check(whole.failed == split.failed && whole.failed == single.failed,
          "SSE: failure differs with the cuts (\(whole.failed) \(split.failed) \(single.failed))")
    if !whole.failed {
        check(whole.events == split.events, "SSE: events differ with cuts at \(cuts)")
        check(whole.events == single.events, "SSE: events differ when fed byte by byte")
        for e in whole.events { check(e.data.count <= limit, "SSE: event data over the limit") }
    }
}

// MARK: - CSV

/// Reads the text as CSV to its end or its first error. Every record has at
/// least one field, fields stay within the record limit, and the reader
/// never moves backwards.
func fuzzCSV(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    var r = CSVReader(text: text, name: "fuzz.csv", maxRecordBytes: 4096)
    var records = 0
    var lastLine = 0
    do throws(OMError) {
        while try r.next() {
            records += 1
            check(r.fieldCount >= 1, "CSV: a record without fields")
            check(r.line >= lastLine, "CSV: line went backwards")
            lastLine = r.line
            var total = 0
            for i in 0..<r.fieldCount { total += r.field(i).utf8.count }
            check(total <= 4096 * 4, "CSV: a record larger than the limit")
            check(r.field(r.fieldCount) == "" && r.field(-1) == "", "CSV: out-of-range field not empty")
            if records > 1_000_000 { break }
        }
    } catch {
        check(!error.message.isEmpty, "CSV: an error without a message")
        check(error.message.containsBytes("fuzz.csv"), "CSV: an error that does not name the file: \(error.message)")
    }
}

// MARK: - JSON in a reply

/// Extracts JSON from a model reply: the result is always an object or an
/// array, and a reply that is itself a JSON object comes back equal.
func fuzzReply(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    guard let j = try? ReplyJSON.extract(text) else { return }  // only allocation failures throw
    check(j.isObject || j.isArray, "reply: extracted JSON is neither an object nor an array")
    guard (try? j.dump()) != nil else {
        check(false, "reply: the extracted JSON cannot be written back")
        return
    }
    if let whole = try? JSON.parse(text, what: "reply"), whole.isObject || whole.isArray {
        check((try? whole.dump()) == (try? j.dump()), "reply: a JSON reply did not come back as it was")
    }
}

// MARK: - The one-pass reply scan against jansson

/// ReplyScan answers only when it is sure to agree with the jansson path:
/// whenever it reads a completion or a stream chunk, jansson must read the
/// same text from it (and accept it as JSON at all).
func fuzzReplyScan(_ input: UnsafeRawBufferPointer) {
    let bytes = Array(input)
    if let fast = ReplyScan.completionContent(bytes) {
        let slow = (try? JSON.parse(bytes, what: "fuzz")).flatMap { try? ChatEndpoint.replyText($0, requestID: nil) }
        check(slow == fast, "replyscan: the completion's text differs from jansson's")
    }
    guard let scan = ReplyScan.scan(input, .chunk), !scan.hasError else { return }
    guard let payload = try? JSON.parse(bytes, what: "fuzz") else {
        check(false, "replyscan: a chunk the scan read is not JSON to jansson")
        return
    }
    check(payload["error"] == nil, "replyscan: jansson sees an error member the scan missed")
    var slowPieces: [[UInt8]] = []
    var slowFinished = false
    if let choices = payload["choices"], choices.isArray {
        for choice in choices.elements {
            if choice["finish_reason"]?.string != nil { slowFinished = true }
            if let b = choice["delta"]?["content"]?.withStringBytes({ Array($0) }), !b.isEmpty { slowPieces.append(b) }
        }
    }
    var fastPieces: [[UInt8]] = []
    for p in scan.pieces {
        var out: [UInt8] = []
        ReplyScan.decode(input, p, into: &out)
        if !out.isEmpty { fastPieces.append(out) }
    }
    check(fastPieces == slowPieces && scan.finished == slowFinished, "replyscan: a chunk's pieces differ from jansson's")
}

// MARK: - MIME sniffing

/// The type recognised from the first bytes agrees with its signature, and
/// more bytes after the signature do not change the verdict.
func fuzzSniff(_ input: UnsafeRawBufferPointer) {
    let t = ImageType.sniff(input)
    let b = Array(input)
    switch t {
    case .png?: check(b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "sniff: png")
    case .jpeg?: check(b.starts(with: [0xFF, 0xD8, 0xFF]), "sniff: jpeg")
    case .gif?: check(b.starts(with: Array("GIF87a".utf8)) || b.starts(with: Array("GIF89a".utf8)), "sniff: gif")
    case .webp?: check(b.starts(with: Array("RIFF".utf8)) && b.count >= 12 && Array(b[8..<12]) == Array("WEBP".utf8),
                       "sniff: webp")
    case nil: break
    }
    if input.count >= ImageType.sniffLength {
        let head = UnsafeRawBufferPointer(rebasing: input[0..<ImageType.sniffLength])
        check(ImageType.sniff(head) == t, "sniff: the verdict depends on bytes after the first \(ImageType.sniffLength)")
    }
    check(t.map { !$0.mime.isEmpty } ?? true, "sniff: empty MIME type")
}

// MARK: - Retry headers

/// The input holds the retry-after-ms and retry-after values (split at the
/// first NUL), the try count and the jitter: the delay is finite, never
/// negative, at most 120 s when the server asked for it and at most 8 s
/// otherwise; the parsers agree with it.
func fuzzRetry(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 2 else { return }
    let retries = Int(input[0]) - 8
    let random = Double(input[1]) / 255
    let rest = Array(input[2...])
    let parts = rest.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
    let ms = String(decoding: parts.first ?? [], as: UTF8.self)
    let ra = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
    var h = HeaderList()
    if !ms.isEmpty { h.items.append(("retry-after-ms", ms)) }
    if !ra.isEmpty { h.items.append(("retry-after", ra)) }
    let now: Int64 = 1_790_000_000
    let d = RetryPolicy.delay(headers: h, retriesSoFar: retries, now: now, random: random)
    check(d.isFinite && d >= 0, "retry: delay \(d)")
    if let s = RetryPolicy.serverDelay(headers: h, now: now) {
        check(s > 0 && s <= RetryPolicy.maxServerDelay, "retry: server delay \(s)")
        check(d == s, "retry: the server's delay was not used")
    } else {
        check(d <= 8, "retry: backoff \(d) over 8 s")
    }
    for text in [ms, ra] {
        if let n = RetryPolicy.parseNumber(text) { check(n.isFinite && n >= 0, "retry: number \(n) from '\(text)'") }
        if let t = RetryPolicy.parseHTTPDate(text) { check(t >= 0, "retry: date \(t) from '\(text)'") }
    }
    _ = RetryPolicy.shouldRetry(status: Int(input[0]) * 3, headers: h, errorType: ra, errorCode: ms)
}

// MARK: - API error bodies

/// Any error body gives a message, and never shows the key.
func fuzzErrorBody(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 1 else { return }
    let status = 300 + Int(input[0]) * 2
    let secret = "sk-fuzz-SECRETKEY-0123456789"
    var body = Array(input[1...])
    if body.count > 8, body[0] == 0x7B { body.insert(contentsOf: Array("\"k\":\"\(secret)\",".utf8), at: 1) }
    var h = HeaderList()
    h.items.append(("content-type", "application/json"))
    let info = APIErrorParser.parse(status: status, headers: h, body: body, secret: secret)
    check(!info.message.isEmpty, "error body: no message")
    check(!info.message.containsBytes(secret) && !info.body.containsBytes(secret)
          && !(info.param ?? "").containsBytes(secret) && !(info.type ?? "").containsBytes(secret)
          && !(info.code ?? "").containsBytes(secret), "error body: the key shows")
}
