import Glibc

/// Writes JSON Lines to a file through a fixed buffer, escaping strings
/// itself: conversion of large training files stays fast and its memory
/// flat.
final class JSONLWriter {
    let fd: Int32
    let path: String
    private let capacity = 1 << 18
    private let buf: UnsafeMutablePointer<UInt8>
    private var used = 0
    private(set) var bytesWritten: Int64 = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buf = .allocate(capacity: capacity)
    }

    deinit { buf.deallocate() }

    func flush() throws(OMError) {
        if used > 0 {
            try Files.writeAll(fd, UnsafeRawBufferPointer(start: buf, count: used), path: path)
            bytesWritten += Int64(used)
            used = 0
        }
    }

    @inline(__always)
    private func reserve(_ n: Int) throws(OMError) {
        if used + n > capacity { try flush() }
    }

    func raw(_ s: StaticString) throws(OMError) {
        let n = s.utf8CodeUnitCount
        try reserve(n)
        (buf + used).update(from: s.utf8Start, count: n)
        used += n
    }

    func raw(_ bytes: UnsafeRawBufferPointer) throws(OMError) {
        var rest = bytes
        while !rest.isEmpty {
            if used == capacity { try flush() }
            let n = min(rest.count, capacity - used)
            UnsafeMutableRawPointer(buf + used).copyMemory(from: rest.baseAddress!, byteCount: n)
            used += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// Writes `bytes` (valid UTF-8) as a JSON string literal.
    func string(_ bytes: UnsafeRawBufferPointer) throws(OMError) {
        try reserve(1)
        buf[used] = 34
        used += 1
        let hex = JSONLWriter.hex.utf8Start
        guard let base = bytes.baseAddress else {
            try reserve(1)
            buf[used] = 34
            used += 1
            return
        }
        let n = bytes.count
        var i = 0
        while i < n {
            // The run of bytes that need no escape goes in one copy; it is
            // found eight bytes at a time while no byte is a control
            // character, '"' or '\\' (exact tests: non-ASCII bytes pass).
            var j = i
            while n - j >= 8 {
                let w = base.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                if JSONLWriter.needsEscape(w) { break }
                j += 8
            }
            while j < n {
                let b = base.load(fromByteOffset: j, as: UInt8.self)
                if b < 0x20 || b == 34 || b == 92 { break }
                j += 1
            }
            if j > i {
                try raw(UnsafeRawBufferPointer(start: base + i, count: j - i))
                i = j
                if i == n { break }
            }
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            try reserve(6)
            buf[used] = 92
            switch b {
            case 34: buf[used + 1] = 34; used += 2
            case 92: buf[used + 1] = 92; used += 2
            case 10: buf[used + 1] = 110; used += 2
            case 13: buf[used + 1] = 114; used += 2
            case 9: buf[used + 1] = 116; used += 2
            default:
                buf[used + 1] = 117; buf[used + 2] = 48; buf[used + 3] = 48
                buf[used + 4] = hex[Int(b >> 4)]; buf[used + 5] = hex[Int(b & 15)]
                used += 6
            }
        }
        try reserve(1)
        buf[used] = 34
        used += 1
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether one of the eight bytes of `w` is below 0x20, '"' or '\\'.
    @inline(__always)
    static func needsEscape(_ w: UInt64) -> Bool {
        let below = (w &- 0x20 &* ones) & ~w & highs
        let q = w ^ (0x22 &* ones), bs = w ^ (0x5C &* ones)
        let quote = (q &- ones) & ~q & highs
        let slash = (bs &- ones) & ~bs & highs
        return (below | quote | slash) != 0
    }

    func string(_ s: String) throws(OMError) {
        var s = s
        try s.withUTF8 { b in Result { () throws(OMError) in try string(UnsafeRawBufferPointer(b)) } }.get()
    }
}
