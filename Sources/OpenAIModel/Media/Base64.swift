import Glibc

/// Base64 with the standard alphabet (RFC 4648 §4), `=` padding, no line breaks.
enum Base64 {
    /// The alphabet, as a NUL-terminated literal in read-only data (no
    /// allocation, no lazy global).
    private static let alphabet: StaticString =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// Exact output size for `n` input bytes: 4 * ceil(n / 3). 0 for n <= 0;
    /// saturates at Int.max for sizes no buffer can have.
    static func encodedCount(_ n: Int) -> Int {
        if n <= 0 { return 0 }
        let groups = n / 3 + (n % 3 == 0 ? 0 : 1)
        let (r, overflow) = groups.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : r
    }

    /// Exact output size for `n` input bytes, for file sizes.
    static func encodedCount64(_ n: Int64) -> Int64 {
        if n <= 0 { return 0 }
        let groups = n / 3 + (n % 3 == 0 ? 0 : 1)
        let (r, overflow) = groups.multipliedReportingOverflow(by: 4)
        return overflow ? Int64.max : r
    }

    /// Encodes all of `src` (with padding) into `dst` and returns the number of
    /// bytes written, `encodedCount(src.count)`. If `dst` is smaller than that,
    /// nothing is written and 0 is returned (never a partial encoding).
    static func encode(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> Int {
        let n = src.count
        let out = encodedCount(n)
        guard n > 0, dst.count >= out, let s0 = src.baseAddress, let d0 = dst.baseAddress else {
            return 0
        }
        let s = s0.assumingMemoryBound(to: UInt8.self)
        let d = d0.assumingMemoryBound(to: UInt8.self)
        let t = alphabet.utf8Start
        let full = n / 3
        var i = 0
        var o = 0
        var g = 0
        while g < full {
            let b0 = UInt32(s[i]), b1 = UInt32(s[i &+ 1]), b2 = UInt32(s[i &+ 2])
            let v = (b0 << 16) | (b1 << 8) | b2
            d[o] = t[Int(v >> 18)]
            d[o &+ 1] = t[Int((v >> 12) & 63)]
            d[o &+ 2] = t[Int((v >> 6) & 63)]
            d[o &+ 3] = t[Int(v & 63)]
            i &+= 3
            o &+= 4
            g &+= 1
        }
        let rest = n &- i
        if rest == 1 {
            let v = UInt32(s[i]) << 16
            d[o] = t[Int(v >> 18)]
            d[o &+ 1] = t[Int((v >> 12) & 63)]
            d[o &+ 2] = 0x3D
            d[o &+ 3] = 0x3D
            o &+= 4
        } else if rest == 2 {
            let v = (UInt32(s[i]) << 16) | (UInt32(s[i &+ 1]) << 8)
            d[o] = t[Int(v >> 18)]
            d[o &+ 1] = t[Int((v >> 12) & 63)]
            d[o &+ 2] = t[Int((v >> 6) & 63)]
            d[o &+ 3] = 0x3D
            o &+= 4
        }
        return o
    }

    /// Encodes a whole buffer into a new array.
    static func encode(_ src: UnsafeRawBufferPointer) -> [UInt8] {
        let count = encodedCount(src.count)
        return [UInt8](unsafeUninitializedCapacity: count) { buf, initialized in
            initialized = encode(src, into: UnsafeMutableRawBufferPointer(buf))
        }
    }

    /// Strict decoder (used by tests): the length must be a multiple of 4,
    /// `=` only as one or two final padding characters, unused bits zero, no
    /// whitespace. nil on invalid input.
    static func decode(_ s: [UInt8]) -> [UInt8]? {
        let n = s.count
        if n == 0 { return [] }
        if n % 4 != 0 { return nil }
        var pad = 0
        if s[n - 1] == 0x3D { pad += 1 }
        if s[n - 2] == 0x3D { pad += 1 }
        if pad == 1 && s[n - 2] == 0x3D { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n / 4 * 3)
        var i = 0
        while i < n {
            let last = i + 4 == n
            let v0 = value(s[i]), v1 = value(s[i + 1])
            let v2 = last && pad == 2 ? 0 : value(s[i + 2])
            let v3 = last && pad >= 1 ? 0 : value(s[i + 3])
            guard let v0, let v1, let v2, let v3 else { return nil }
            let v = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3
            out.append(UInt8(truncatingIfNeeded: v >> 16))
            if last && pad == 2 {
                if v & 0xFFFF != 0 { return nil }
            } else if last && pad == 1 {
                out.append(UInt8(truncatingIfNeeded: v >> 8))
                if v & 0xFF != 0 { return nil }
            } else {
                out.append(UInt8(truncatingIfNeeded: v >> 8))
                out.append(UInt8(truncatingIfNeeded: v))
            }
            i += 4
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x41...0x5A: return UInt32(c - 0x41)
        case 0x61...0x7A: return UInt32(c - 0x61 + 26)
        case 0x30...0x39: return UInt32(c - 0x30 + 52)
        case 0x2B: return 62
        case 0x2F: return 63
        default: return nil
        }
    }
}

/// Streams the base64 encoding of a file, for a libcurl read callback: memory
/// stays bounded (one 48 KiB input and one 64 KiB output buffer) whatever the
/// file size.
///
/// The file is read with `pread` from offset 0, so the descriptor's own
/// position does not matter and is not changed. Exactly `size` bytes are
/// encoded: if the file grew, the extra bytes are ignored (the encoded size
/// promised to the server stays true); if it shrank, `read` throws.
/// The stream does not own `fd`: its owner keeps it open while the stream is
/// used and closes it afterwards.
struct Base64FileStream {
    /// Input bytes per read: a multiple of 3, so only the last chunk is padded.
    static let chunkSize = 48 * 1024
    /// Encoded bytes per full chunk.
    static let encodedChunkSize = chunkSize / 3 * 4

    let fd: Int32
    let size: Int64
    /// How error messages name the file, e.g. "image 'cat.png'".
    let name: String

    private var offset: Int64 = 0  // next file offset to read
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var outPos = 0
    private var outEnd = 0

    init(fd: Int32, size: Int64, name: String = "file") {
        self.fd = fd
        self.size = max(0, size)
        self.name = name
    }

    /// Exact number of bytes the stream produces in total.
    var encodedSize: Int64 { Base64.encodedCount64(size) }

    /// Fills `dst` with the next encoded bytes (up to `dst.count`); returns 0 at
    /// the end. Throws `OMError.io` if a read fails or the file turned out
    /// shorter than `size`.
    mutating func read(into dst: UnsafeMutableRawBufferPointer) throws(OMError) -> Int {
        guard let d = dst.baseAddress else { return 0 }
        let cap = dst.count
        var written = 0
        while written < cap {
            if outPos < outEnd {
                let k = min(outEnd - outPos, cap - written)
                output.withUnsafeBytes { o in
                    if let ob = o.baseAddress {
                        (d + written).copyMemory(from: ob + outPos, byteCount: k)
                    }
                }
                outPos += k
                written += k
                continue
            }
            if offset >= size { break }
            let want = Int(min(Int64(Base64FileStream.chunkSize), size - offset))
            try fill(want)
            let encodedLen = Base64.encodedCount(want)
            let direct = cap - written >= encodedLen
            let produced = input.withUnsafeBytes { i in
                if direct {
                    // Room for the whole chunk: encode straight into dst.
                    return Base64.encode(
                        UnsafeRawBufferPointer(rebasing: i[0..<want]),
                        into: UnsafeMutableRawBufferPointer(start: d + written, count: cap - written))
                }
                return output.withUnsafeMutableBytes { o in
                    Base64.encode(UnsafeRawBufferPointer(rebasing: i[0..<want]), into: o)
                }
            }
            offset += Int64(want)
            if direct {
                written += produced
            } else {
                outPos = 0
                outEnd = produced
            }
        }
        return written
    }

    /// Back to the start (libcurl rewinds the body on retries and redirects).
    mutating func rewind() {
        offset = 0
        outPos = 0
        outEnd = 0
    }

    /// Reads exactly `want` bytes at `offset` into `input`.
    private mutating func fill(_ want: Int) throws(OMError) {
        if input.isEmpty {
            input = [UInt8](repeating: 0, count: Base64FileStream.chunkSize)
            output = [UInt8](repeating: 0, count: Base64FileStream.encodedChunkSize)
        }
        let (got, failure) = RegularFile.pread(fd, into: &input, count: want, at: offset)
        if failure != 0 {
            throw .io("\(name): read failed: \(Sys.errnoText(failure))")
        }
        if got < want {
            throw .io(
                "\(name): the file changed while it was being sent (it is now shorter than \(size) bytes)"
            )
        }
    }
}
