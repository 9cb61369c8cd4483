import Glibc

/// One Server-Sent Event, as dispatched by `SSEDecoder`.
struct SSEEvent: Sendable, Equatable {
    /// The event type; nil when the stream gave none (or an empty one), which
    /// the spec calls "message".
    var event: String?
    /// The data lines joined with "\n", as raw bytes (the stream's UTF-8 is
    /// not re-validated here: JSON parsing downstream does that).
    var data: [UInt8]
    /// The last event ID: it persists across events until the server sends
    /// another `id` field (WHATWG semantics). nil when never set or set to "".
    var id: String?

    init(event: String? = nil, data: [UInt8], id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// Incremental decoder for `text/event-stream` bodies, following the WHATWG
/// HTML "Server-sent events" parsing rules:
///
/// - lines end at CRLF, LF or CR; a CR at the end of one chunk followed by an LF
///   at the start of the next counts as one line end;
/// - a UTF-8 BOM at the very start of the stream is skipped (even if split
///   across chunks);
/// - lines starting with ':' are comments; `field:value` with one optional
///   space after the colon, or `field` alone (empty value);
/// - `data` lines accumulate, joined with "\n"; `event` sets the type; `id`
///   sets the last event ID unless its value contains NUL; `retry` and unknown
///   fields are ignored;
/// - a blank line dispatches the event, unless no data line was seen (then the
///   event type is reset and nothing is emitted).
///
/// The decoder works on bytes, so chunk boundaries anywhere (inside a line,
/// a CRLF pair or a multi-byte character) do not change the result.
///
/// Memory is bounded: a line, or the accumulated data of one event, longer than
/// `maxLineLength` bytes throws `OMError.parse`. After any error (including one
/// thrown by `emit`) the decoder's state is unspecified: discard it.
struct SSEDecoder {
    static let defaultMaxLineLength = 64 << 20

    /// Longest accepted line, and longest accepted data of one event, in bytes.
    let maxLineLength: Int

    /// Bytes of a line that is not complete yet (carried across `feed` calls).
    private var partial = SSEByteBuffer()
    /// The previous byte was a CR that ended a line: an LF right after it is
    /// part of the same line end.
    private var skipLF = false
    /// How many bytes of the UTF-8 BOM were matched at the stream start;
    /// -1 once the start of the stream is behind us.
    private var bomMatched = 0

    private var data = SSEByteBuffer()
    private var hasData = false
    private var eventType = SSEByteBuffer()
    private var lastEventID: String? = nil
    /// The String of the last event type dispatched, to avoid building the
    /// same (often > 15-byte, so heap-allocated) string for every event.
    private var cachedTypeBytes: [UInt8] = []
    private var cachedType: String? = nil

    init() {
        self.maxLineLength = SSEDecoder.defaultMaxLineLength
    }

    init(maxLineLength: Int) {
        self.maxLineLength = max(1, maxLineLength)
    }

    /// True when bytes of an unfinished line or event are pending: at the end
    /// of the stream this means the body was cut in the middle of an event.
    var hasPendingInput: Bool {
        partial.count > 0 || hasData || eventType.count > 0 || bomMatched > 0
    }

    /// Feeds bytes as they arrive from the network; calls `emit` for each
    /// complete event (dispatched at a blank line).
    mutating func feed(
        _ raw: UnsafeRawBufferPointer, _ emit: (SSEEvent) throws(OMError) -> Void
    ) throws(OMError) {
        let bytes = raw.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var i = 0
        if bomMatched >= 0 {
            // EF BB BF at the very start of the stream, possibly split.
            while i < n && bomMatched < 3 {
                let want: UInt8 = bomMatched == 0 ? 0xEF : (bomMatched == 1 ? 0xBB : 0xBF)
                if bytes[i] != want { break }
                bomMatched += 1
                i += 1
            }
            if bomMatched == 3 {
                bomMatched = -1
            } else if i < n {
                // Not a BOM after all: the matched bytes are ordinary line bytes.
                if bomMatched >= 1 { partial.append(0xEF) }
                if bomMatched >= 2 { partial.append(0xBB) }
                bomMatched = -1
            } else {
                return  // all bytes so far were a BOM prefix
            }
        }
        while i < n {
            if skipLF {
                skipLF = false
                if bytes[i] == 0x0A {
                    i += 1
                    continue
                }
            }
            // Find the end of the line.
            var j = i
            while j < n {
                let b = bytes[j]
                if b == 0x0A || b == 0x0D { break }
                j += 1
            }
            let lineLen = j - i
            if lineLen > maxLineLength - partial.count {
                throw .parse(
                    "event stream: a line is longer than \(maxLineLength) bytes")
            }
            if j == n {
                // Incomplete line: keep it for the next chunk.
                partial.append(UnsafeBufferPointer(rebasing: bytes[i..<j]))
                return
            }
            if bytes[j] == 0x0D { skipLF = true }
            if partial.count == 0 {
                try processLine(UnsafeBufferPointer(rebasing: bytes[i..<j]), emit)
            } else {
                partial.append(UnsafeBufferPointer(rebasing: bytes[i..<j]))
                // Move the buffer out so processLine can mutate self freely.
                var line = SSEByteBuffer()
                swap(&line, &partial)
                try line.withBytes { (l) throws(OMError) in
                    try processLine(l, emit)
                }
                line.reset()
                swap(&line, &partial)
            }
            i = j + 1
        }
    }

    /// End of stream. Per the spec ("If the file ends in the middle of an
    /// event, before the final empty line, the incomplete event is not
    /// dispatched"), a pending incomplete line or event is discarded, so
    /// `emit` is never called; check `hasPendingInput` first to detect a
    /// truncated stream. The decoder is reset and can decode a new stream.
    mutating func finish(_ emit: (SSEEvent) throws(OMError) -> Void) throws(OMError) {
        self = SSEDecoder(maxLineLength: maxLineLength)
    }

    private mutating func processLine(
        _ line: UnsafeBufferPointer<UInt8>, _ emit: (SSEEvent) throws(OMError) -> Void
    ) throws(OMError) {
        let n = line.count
        if n == 0 {
            try dispatch(emit)
            return
        }
        if line[0] == 0x3A { return }  // ':' comment
        var colon = 0
        while colon < n && line[colon] != 0x3A { colon += 1 }
        var v = colon < n ? colon + 1 : n
        if v < n && line[v] == 0x20 { v += 1 }
        let value = UnsafeBufferPointer(rebasing: line[v..<n])
        switch colon {
        case 4:
            // "data"
            if line[0] == 0x64 && line[1] == 0x61 && line[2] == 0x74 && line[3] == 0x61 {
                let extra = value.count + (hasData ? 1 : 0)
                if extra > maxLineLength - data.count {
                    throw .parse(
                        "event stream: an event's data is longer than \(maxLineLength) bytes")
                }
                if hasData { data.append(0x0A) }
                data.append(value)
                hasData = true
            }
        case 5:
            // "event" ("retry" is ignored, like unknown fields)
            if line[0] == 0x65 && line[1] == 0x76 && line[2] == 0x65 && line[3] == 0x6E
                && line[4] == 0x74
            {
                eventType.reset()
                eventType.append(value)
            }
        case 2:
            // "id"
            if line[0] == 0x69 && line[1] == 0x64 {
                if !value.contains(0) {
                    lastEventID = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
                }
            }
        default:
            break
        }
    }

    private mutating func dispatch(_ emit: (SSEEvent) throws(OMError) -> Void) throws(OMError) {
        guard hasData else {
            eventType.reset()
            return
        }
        let type: String?
        if eventType.count == 0 {
            type = nil
        } else if eventType.equals(cachedTypeBytes) {
            type = cachedType
        } else {
            let t = eventType.withBytes { String(decoding: $0, as: UTF8.self) }
            cachedTypeBytes = eventType.withBytes { Array($0) }
            cachedType = t
            type = t
        }
        let event = SSEEvent(event: type, data: data.copy(), id: lastEventID)
        data.reset()
        hasData = false
        eventType.reset()
        try emit(event)
    }
}

/// A growable byte buffer that is reset without freeing or re-checking its
/// storage (Array.removeAll(keepingCapacity:) is a slow generic path). The
/// array's count is the capacity; `count` bytes of it are in use.
fileprivate struct SSEByteBuffer {
    private var storage: [UInt8] = []
    private(set) var count = 0

    /// Storage above this is dropped on reset, so one huge line or event does
    /// not pin memory for the rest of the stream.
    private static let keepLimit = 1 << 20

    mutating func reset() {
        count = 0
        if storage.count > SSEByteBuffer.keepLimit { storage = [] }
    }

    mutating func append(_ b: UInt8) {
        if count == storage.count { grow(1) }
        storage.withUnsafeMutableBufferPointer { $0[count] = b }
        count += 1
    }

    mutating func append(_ src: UnsafeBufferPointer<UInt8>) {
        let n = src.count
        guard n > 0, let s = src.baseAddress else { return }
        if n > storage.count - count { grow(n) }
        let c = count
        storage.withUnsafeMutableBufferPointer { dst in
            if let d = dst.baseAddress { (d + c).update(from: s, count: n) }
        }
        count += n
    }

    private mutating func grow(_ n: Int) {
        var cap = max(64, storage.count)
        while cap - count < n {
            if cap > Int.max / 4 {
                cap = count &+ n
                break
            }
            cap *= 2
        }
        var bigger = [UInt8](repeating: 0, count: cap)
        let c = count
        if c > 0 {
            storage.withUnsafeBufferPointer { old in
                bigger.withUnsafeMutableBufferPointer { new in
                    if let o = old.baseAddress, let n = new.baseAddress { n.update(from: o, count: c) }
                }
            }
        }
        storage = bigger
    }

    func withBytes<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try storage.withUnsafeBufferPointer { (all) throws(E) in
            try body(UnsafeBufferPointer(rebasing: all[0..<count]))
        }
    }

    func equals(_ other: [UInt8]) -> Bool {
        if other.count != count { return false }
        return withBytes { mine in
            other.withUnsafeBufferPointer { theirs in
                guard let a = mine.baseAddress, let b = theirs.baseAddress else { return true }
                return memcmp(a, b, count) == 0
            }
        }
    }

    /// An exact-size copy of the bytes in use.
    func copy() -> [UInt8] {
        withBytes { Array($0) }
    }
}
