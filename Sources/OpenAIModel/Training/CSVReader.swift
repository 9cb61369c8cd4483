import Glibc

/// Streaming CSV reader: RFC 4180 plus what real files contain.
///
/// - fields separated by ',', records by CRLF, LF or a lone CR;
/// - quoted fields may hold commas, line ends and doubled quotes (`""`);
/// - a `"` inside an unquoted field is kept literally (lenient, like Python's
///   csv module); after a closing quote only ',' or a line end may follow;
/// - a UTF-8 BOM at the start is skipped; completely empty lines are skipped;
///   the last record may lack a line end; a trailing ',' gives an empty field;
/// - the input must be UTF-8.
///
/// The reader yields records; a header row is the caller's business. The
/// current record's fields live in one reusable byte buffer plus end offsets,
/// so reading allocates nothing per field. A file is read in 64 KiB blocks;
/// memory does not grow with the file, only with the largest record, which is
/// capped (64 MiB by default): a larger one throws `OMError.data`.
///
/// Errors in the input throw `OMError.data("<name>:<line>:<column>: <reason>")`
/// where the column counts characters from 1. After an error, discard the
/// reader.
struct CSVReader: ~Copyable {
    static let blockSize = 64 * 1024
    static let defaultMaxRecordBytes = 64 << 20

    /// How messages name the input (the path for a file).
    let name: String
    /// Largest accepted record, in bytes of input.
    let maxRecordBytes: Int

    private enum State {
        case recordStart, fieldStart, unquoted, quoted, quoteInQuoted
    }

    // Input. For a file, `buf` is a block buffer refilled with read(2); for
    // text, `buf` holds the whole text and `end` advances in blocks (so size
    // checks work the same way).
    private let fd: Int32  // -1 for text
    private let buf: UnsafeMutablePointer<UInt8>?
    private let textCount: Int
    private var pos = 0  // next byte to parse in buf
    private var end = 0  // bytes of buf available to parse
    private var bufStart: Int64 = 0  // stream offset of buf[0]
    private var eof = false
    private var started = false  // BOM check done
    private var pendingError: OMError?

    // The current record: field bytes and the end offset of each field.
    private var fbuf: UnsafeMutablePointer<UInt8>? = nil
    private var fcap = 0
    private var flen = 0
    private var ends: [Int] = []

    // Positions.
    private var lineNo = 1
    private var lineStart: Int64 = 0  // stream offset of the current line's first byte
    private var contInLine = 0  // UTF-8 continuation bytes since lineStart
    private var skipLF = false  // a CR just ended a line
    private var recordLine = 0
    private var recordStart: Int64 = 0
    private var state = State.recordStart
    private var quoteLine = 0
    private var quoteColumn = 0

    // A UTF-8 sequence split across blocks.
    private var need = 0
    private var lo: UInt8 = 0x80
    private var hi: UInt8 = 0xBF
    private var leadPos: Int64 = 0
    private var leadCont = 0

    private init(fd: Int32, name: String, text: String?, maxRecordBytes: Int) {
        self.fd = fd
        self.name = name
        self.maxRecordBytes = max(16, maxRecordBytes)
        if var text {
            let n = text.utf8.count
            let p = malloc(max(n, 1))?.assumingMemoryBound(to: UInt8.self)
            self.buf = p
            self.textCount = n
            if let p {
                text.withUTF8 { src in
                    if let s = src.baseAddress { p.update(from: s, count: src.count) }
                }
            } else {
                pendingError = .outOfMemory
            }
        } else {
            let p = malloc(CSVReader.blockSize)?.assumingMemoryBound(to: UInt8.self)
            self.buf = p
            self.textCount = 0
            if p == nil { pendingError = .outOfMemory }
        }
    }

    /// Reads CSV given as text. `name` is used in messages (e.g. "CSV data").
    init(text: String, name: String) {
        self.init(fd: -1, name: name, text: text, maxRecordBytes: CSVReader.defaultMaxRecordBytes)
    }

    init(text: String, name: String, maxRecordBytes: Int) {
        self.init(fd: -1, name: name, text: text, maxRecordBytes: maxRecordBytes)
    }

    /// Opens a CSV file for streaming. Open errors name the path like
    /// `ImageFile.open`'s ("CSV file '<path>': no such file", "... is a
    /// folder, not a file", ...); parse errors use the path as `name`.
    static func open(path: String) throws(OMError) -> CSVReader {
        try open(path: path, maxRecordBytes: defaultMaxRecordBytes)
    }

    static func open(path: String, maxRecordBytes: Int) throws(OMError) -> CSVReader {
        let (fd, _) = try RegularFile.open(path, what: "CSV file")
        return CSVReader(fd: fd, name: path, text: nil, maxRecordBytes: maxRecordBytes)
    }

    deinit {
        free(buf)
        free(fbuf)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Number of fields of the current record.
    var fieldCount: Int { ends.count }

    /// 1-based line where the current record starts (0 before the first).
    var line: Int { recordLine }

    /// Input bytes consumed so far, for progress reporting.
    var bytesRead: Int64 { bufStart + Int64(pos) }

    /// The field's bytes (quotes removed, `""` unescaped), valid until the next
    /// call to `next()`. Out of range: an empty buffer.
    func withField<R>(
        _ i: Int, _ body: (UnsafeRawBufferPointer) throws(OMError) -> R
    ) throws(OMError) -> R {
        guard i >= 0, i < ends.count, let f = fbuf else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let s = i == 0 ? 0 : ends[i - 1]
        return try body(UnsafeRawBufferPointer(start: f + s, count: ends[i] - s))
    }

    /// The field as a String; "" when out of range.
    func field(_ i: Int) -> String {
        guard i >= 0, i < ends.count, let f = fbuf else { return "" }
        let s = i == 0 ? 0 : ends[i - 1]
        return String(decoding: UnsafeBufferPointer(start: f + s, count: ends[i] - s), as: UTF8.self)
    }

    /// All fields of the current record as Strings (convenience for tests and
    /// small inputs).
    var fields: [String] { (0..<ends.count).map { field($0) } }

    // MARK: - Parsing

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C

    /// Advances to the next record; false at the end of the input.
    /// Whether one of the eight bytes of `w` ends a plain run of a field:
    /// a non-ASCII byte (its sequence is checked byte by byte), a line end,
    /// or `delimiter` (',' outside quotes, '"' inside). Plain ASCII runs are
    /// skipped eight bytes at a time.
    @inline(__always)
    static func stops(_ w: UInt64, _ delimiter: UInt8) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func has(_ c: UInt8) -> UInt64 {
            let x = w ^ (UInt64(c) &* ones)
            return (x &- ones) & ~x
        }
        return ((w | has(delimiter) | has(lf) | has(cr)) & highs) != 0
    }

    mutating func next() throws(OMError) -> Bool {
        if let e = pendingError { throw e }
        guard let p = buf else { return false }
        flen = 0
        if ends.capacity > 1 << 16 { ends = [] } else { ends.removeAll(keepingCapacity: true) }
        state = .recordStart
        while true {
            if pos >= end {
                if try !refill() { return try atEnd() }
                continue
            }
            switch state {
            case .recordStart:
                let b = p[pos]
                if skipLF {
                    skipLF = false
                    if b == CSVReader.lf {
                        pos += 1
                        lineStart += 1
                        continue
                    }
                }
                if b == CSVReader.lf || b == CSVReader.cr {
                    // An empty line: skipped.
                    newline(at: pos)
                    skipLF = b == CSVReader.cr
                    pos += 1
                    continue
                }
                recordLine = lineNo
                recordStart = bufStart + Int64(pos)
                state = .fieldStart

            case .fieldStart:
                if p[pos] == CSVReader.quote {
                    quoteLine = lineNo
                    quoteColumn = column(at: pos)
                    pos += 1
                    state = .quoted
                } else {
                    state = .unquoted
                }

            case .unquoted:
                if need > 0 {
                    try continueSequence(p)
                    continue
                }
                let (j, b) = scanRun(p, from: pos, to: end, stop: CSVReader.comma)
                if j > pos {
                    try append(p + pos, j - pos)
                    pos = j
                }
                if j == end { continue }
                if b == CSVReader.comma {
                    try endField()
                    pos += 1
                    state = .fieldStart
                } else if b == CSVReader.lf || b == CSVReader.cr {
                    try endField()
                    newline(at: pos)
                    skipLF = b == CSVReader.cr
                    pos += 1
                    state = .recordStart
                    return true
                } else {
                    try startSequence(p)
                }

            case .quoted:
                if need > 0 {
                    try continueSequence(p)
                    continue
                }
                if skipLF {
                    skipLF = false
                    if p[pos] == CSVReader.lf {
                        try append(p + pos, 1)
                        pos += 1
                        lineStart += 1
                        continue
                    }
                }
                let (j, b) = scanRun(p, from: pos, to: end, stop: CSVReader.quote)
                if j > pos {
                    try append(p + pos, j - pos)
                    pos = j
                }
                if j == end { continue }
                if b == CSVReader.quote {
                    pos += 1
                    state = .quoteInQuoted
                } else if b == CSVReader.lf || b == CSVReader.cr {
                    // A line end inside the field: kept, and counted.
                    try append(p + pos, 1)
                    newline(at: pos)
                    skipLF = b == CSVReader.cr
                    pos += 1
                } else {
                    try startSequence(p)
                }

            case .quoteInQuoted:
                let b = p[pos]
                if b == CSVReader.quote {
                    try append(p + pos, 1)
                    pos += 1
                    state = .quoted
                } else if b == CSVReader.comma {
                    try endField()
                    pos += 1
                    state = .fieldStart
                } else if b == CSVReader.lf || b == CSVReader.cr {
                    try endField()
                    newline(at: pos)
                    skipLF = b == CSVReader.cr
                    pos += 1
                    state = .recordStart
                    return true
                } else {
                    let shown: String
                    if b >= 0x20 && b < 0x7F {
                        shown = "'\(Character(Unicode.Scalar(b)))'"
                    } else {
                        shown = "byte 0x\(String(b, radix: 16))"
                    }
                    throw error(
                        lineNo, column(at: pos),
                        "unexpected \(shown) after the closing quote of a field (a quote inside a quoted field must be doubled)"
                    )
                }
            }
        }
    }

    /// End of input reached while parsing a record.
    /// From `start`, the end of the run of bytes that go into the field as
    /// they are - plain ASCII (eight bytes at a time) and complete UTF-8
    /// sequences - and the byte it stopped at (0 at `end`): `stop`, a line
    /// end, or the lead of a sequence the block cut short or that is
    /// invalid (the caller decides which). Counts the continuation bytes.
    @inline(__always)
    private mutating func scanRun(_ p: UnsafeMutablePointer<UInt8>, from start: Int, to e: Int,
                                  stop: UInt8) -> (Int, UInt8) {
        var j = start
        var b: UInt8 = 0
        while e &- j >= 8, !CSVReader.stops(UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self), stop) {
            j &+= 8
        }
        while j < e {
            b = p[j]
            if b > stop && b < 0x80 {
                j &+= 1
            } else if b < 0x80 {
                if b == stop || b == CSVReader.lf || b == CSVReader.cr { break }
                j &+= 1
            } else {
                let l = CSVReader.sequenceLength(p, j, e)
                if l <= 0 { break }
                j &+= l
                contInLine &+= l &- 1
            }
        }
        return (j, b)
    }

    private mutating func atEnd() throws(OMError) -> Bool {
        if need > 0 {
            throw error(lineNo, leadColumn(), "invalid UTF-8 (a character is cut off at the end of the input)")
        }
        switch state {
        case .recordStart:
            return false
        case .fieldStart, .unquoted, .quoteInQuoted:
            try endField()
            state = .recordStart
            return true
        case .quoted:
            throw error(
                quoteLine, quoteColumn,
                "unterminated quoted field (the quote opened here is never closed)")
        }
    }

    /// Makes more bytes available in buf[pos..<end]; false at the end of input.
    private mutating func refill() throws(OMError) -> Bool {
        guard let p = buf else { return false }
        if state != .recordStart && bufStart + Int64(pos) - recordStart > Int64(maxRecordBytes) {
            throw tooLarge()
        }
        if fd < 0 {
            if end >= textCount { return false }
            end = min(textCount, end + CSVReader.blockSize)
        } else {
            if eof { return false }
            bufStart += Int64(end)
            pos = 0
            end = 0
            while end < CSVReader.blockSize {
                let r = Glibc.read(fd, p + end, CSVReader.blockSize - end)
                if r > 0 {
                    end += r
                } else if r == 0 {
                    eof = true
                    break
                } else {
                    let e = errno
                    if e == EINTR { continue }
                    throw .io("\(name): read failed: \(Sys.errnoText(e))")
                }
            }
            if end == 0 { return false }
        }
        if !started {
            started = true
            if end >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF {
                pos = 3
                lineStart = 3
            }
        }
        return true
    }

    private mutating func newline(at i: Int) {
        lineNo += 1
        lineStart = bufStart + Int64(i) + 1
        contInLine = 0
    }

    /// 1-based character column of buf[i] on the current line.
    private func column(at i: Int) -> Int {
        Int(bufStart + Int64(i) - lineStart) - contInLine + 1
    }

    private func leadColumn() -> Int {
        Int(leadPos - lineStart) - leadCont + 1
    }

    private func error(_ line: Int, _ column: Int, _ reason: String) -> OMError {
        .data("\(name):\(line):\(column): \(reason)")
    }

    private func tooLarge() -> OMError {
        if state == .quoted {
            return error(
                quoteLine, quoteColumn,
                "a quoted field runs over the \(maxRecordBytes)-byte record limit (is its closing quote missing?)"
            )
        }
        return .data("\(name):\(recordLine): a record is longer than the \(maxRecordBytes)-byte limit")
    }

    private mutating func endField() throws(OMError) {
        if ends.count >= maxRecordBytes / 8 { throw tooLarge() }
        ends.append(flen)
    }

    private mutating func append(_ src: UnsafePointer<UInt8>, _ n: Int) throws(OMError) {
        if n > fcap - flen {
            if n > maxRecordBytes - flen { throw tooLarge() }
            var newCap = max(256, fcap)
            while newCap - flen < n { newCap = newCap &* 2 }
            guard let q = realloc(fbuf, newCap) else { throw .outOfMemory }
            fbuf = q.assumingMemoryBound(to: UInt8.self)
            fcap = newCap
        }
        guard let f = fbuf else { throw .outOfMemory }
        (f + flen).update(from: src, count: n)
        flen += n
    }

    /// Length of the valid UTF-8 sequence starting at p[j] (a byte >= 0x80):
    /// > 0 complete and valid, 0 valid so far but cut by `e`, -1 invalid.
    @inline(__always)
    private static func sequenceLength(_ p: UnsafeMutablePointer<UInt8>, _ j: Int, _ e: Int) -> Int {
        let (n, lo, hi) = leadInfo(p[j])
        if n == 0 { return -1 }
        var k = 1
        while k <= n {
            if j &+ k >= e { return 0 }
            let c = p[j &+ k]
            if k == 1 {
                if c < lo || c > hi { return -1 }
            } else if c & 0xC0 != 0x80 {
                return -1
            }
            k &+= 1
        }
        return n &+ 1
    }

    /// Continuation bytes needed after a lead byte, and the range of the first
    /// one (excluding overlong forms, surrogates and code points > U+10FFFF).
    /// (0, _, _) for a byte that cannot start a sequence.
    @inline(__always)
    private static func leadInfo(_ b: UInt8) -> (Int, UInt8, UInt8) {
        switch b {
        case 0xC2...0xDF: return (1, 0x80, 0xBF)
        case 0xE0: return (2, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE, 0xEF: return (2, 0x80, 0xBF)
        case 0xED: return (2, 0x80, 0x9F)
        case 0xF0: return (3, 0x90, 0xBF)
        case 0xF1...0xF3: return (3, 0x80, 0xBF)
        case 0xF4: return (3, 0x80, 0x8F)
        default: return (0, 0, 0)
        }
    }

    /// At a non-ASCII byte the fast scan stopped on: either invalid UTF-8, or
    /// a sequence cut by the end of the block (continued after a refill).
    private mutating func startSequence(_ p: UnsafeMutablePointer<UInt8>) throws(OMError) {
        let (n, l, h) = CSVReader.leadInfo(p[pos])
        leadPos = bufStart + Int64(pos)
        leadCont = contInLine
        if n == 0 {
            throw error(lineNo, leadColumn(), "invalid UTF-8 (byte 0x\(String(p[pos], radix: 16)))")
        }
        need = n
        lo = l
        hi = h
        try append(p + pos, 1)
        pos += 1
        try continueSequence(p)
    }

    private mutating func continueSequence(_ p: UnsafeMutablePointer<UInt8>) throws(OMError) {
        while need > 0 && pos < end {
            let c = p[pos]
            if c < lo || c > hi {
                throw error(lineNo, leadColumn(), "invalid UTF-8 (byte 0x\(String(c, radix: 16)) in a multi-byte character)")
            }
            try append(p + pos, 1)
            pos += 1
            need -= 1
            contInLine += 1
            lo = 0x80
            hi = 0xBF
        }
    }
}
