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
        for b in bytes {
            if b >= 0x20 && b != 34 && b != 92 {
                if used == capacity { try flush() }
                buf[used] = b
                used += 1
                continue
            }
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

    func string(_ s: String) throws(OMError) {
        var s = s
        try s.withUTF8 { b in Result { () throws(OMError) in try string(UnsafeRawBufferPointer(b)) } }.get()
    }
}
