import Glibc
import Testing

@testable import OpenAIModel

/// A deliberately simple reference encoder: a bit accumulator (not 3-byte
/// groups like the real one) and a linear alphabet lookup.
private func referenceBase64(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var acc: UInt32 = 0
    var bits = 0
    for b in bytes {
        acc = (acc << 8) | UInt32(b)
        bits += 8
        while bits >= 6 {
            bits -= 6
            out.append(alphabet[Int((acc >> UInt32(bits)) & 63)])
        }
        acc &= (1 << UInt32(bits)) - 1
    }
    if bits > 0 {
        out.append(alphabet[Int((acc << UInt32(6 - bits)) & 63)])
    }
    while out.count % 4 != 0 { out.append(UInt8(ascii: "=")) }
    return out
}

private func encode(_ bytes: [UInt8]) -> [UInt8] {
    bytes.withUnsafeBytes { Base64.encode($0) }
}

/// Reads a whole Base64FileStream through a destination buffer of `chunk` bytes.
private func drain(_ stream: inout Base64FileStream, chunk: Int) throws(OMError) -> [UInt8] {
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: chunk)
    while true {
        let n = try buf.withMutableBytes { (b) throws(OMError) in try stream.read(into: b) }
        if n == 0 { break }
        out += buf[0..<n]
    }
    return out
}

private func openRead(_ path: String) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }

@Suite struct Base64Tests {
    @Test func rfc4648Vectors() {
        let vectors: [(String, String)] = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(encode(Array(plain.utf8)) == Array(encoded.utf8), "\(plain)")
            #expect(referenceBase64(Array(plain.utf8)) == Array(encoded.utf8), "reference \(plain)")
            #expect(Base64.decode(Array(encoded.utf8)) == Array(plain.utf8))
            #expect(Base64.encodedCount(plain.utf8.count) == encoded.utf8.count)
        }
        // All byte values, including those mapping to '+' and '/'.
        #expect(encode([0xFB, 0xFF, 0xBF]) == Array("+/+/".utf8))
        #expect(encode([0x00, 0x00, 0x00]) == Array("AAAA".utf8))
    }

    @Test func matchesReferenceAndRoundTripsEveryLength() {
        var rng = SeededRandom(seed: 42)
        for n in 0...4096 {
            let bytes = rng.bytes(n)
            let e = encode(bytes)
            #expect(e.count == Base64.encodedCount(n))
            #expect(e == referenceBase64(bytes), "length \(n)")
            #expect(Base64.decode(e) == bytes, "length \(n)")
        }
    }

    @Test func encodedCountEdges() {
        #expect(Base64.encodedCount(0) == 0)
        #expect(Base64.encodedCount(-5) == 0)
        #expect(Base64.encodedCount(1) == 4)
        #expect(Base64.encodedCount(3) == 4)
        #expect(Base64.encodedCount(4) == 8)
        #expect(Base64.encodedCount(Int.max) == Int.max)
        #expect(Base64.encodedCount(Int.max / 4 * 3) == Int.max / 4 * 4)
        #expect(Base64.encodedCount64(Int64.max) == Int64.max)
        #expect(Base64.encodedCount64(3 << 32) == 4 << 32)
    }

    @Test func encodeIntoSmallBufferWritesNothing() {
        let src: [UInt8] = Array("foobar".utf8)
        var dst = [UInt8](repeating: 0x2A, count: 7)
        let n = src.withUnsafeBytes { s in dst.withUnsafeMutableBytes { Base64.encode(s, into: $0) } }
        #expect(n == 0)
        #expect(dst == [UInt8](repeating: 0x2A, count: 7))
        let m = src.withUnsafeBytes { s in
            Base64.encode(s, into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
        #expect(m == 0)
    }

    @Test func decodeRejectsInvalid() {
        for bad in ["Zg=", "Zg=a", "Z===", "====", "Zh==", "Zm9=", "Zm9v\n", "Zm 9v", "Zm9v====",
                    "Zg==Zg==", "Z-9v", "Zm9_"] {
            #expect(Base64.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test func fileStreamMatchesWholeEncoding() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 1)
        let k48 = Base64FileStream.chunkSize
        for size in [0, 1, 2, 3, 4, k48 - 1, k48, k48 + 1, 2 * k48 + 2, 3 * 1024 * 1024 + 5] {
            let bytes = rng.bytes(size)
            let path = dir.write("f\(size).bin", bytes)
            let expected = encode(bytes)
            let fd = openRead(path)
            #expect(fd >= 0)
            defer { close(fd) }
            var chunks = [7, 16384, 1 << 20, 65536, 65537]
            if size < 200_000 { chunks.append(1) }
            for chunk in chunks {
                var s = Base64FileStream(fd: fd, size: Int64(size))
                #expect(s.encodedSize == Int64(expected.count))
                let out = try drain(&s, chunk: chunk)
                #expect(out == expected, "size \(size) chunk \(chunk)")
                // At the end it keeps returning 0.
                var one = [UInt8](repeating: 0, count: 10)
                let n = try one.withMutableBytes { (b) throws(OMError) in try s.read(into: b) }
                #expect(n == 0)
            }
        }
    }

    @Test func fileStreamOneByteReadsOverMegabytes() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 3)
        let bytes = rng.bytes(2 * 1024 * 1024 + 1)
        let path = dir.write("big.bin", bytes)
        let fd = openRead(path)
        defer { close(fd) }
        var s = Base64FileStream(fd: fd, size: Int64(bytes.count))
        #expect(try drain(&s, chunk: 1) == encode(bytes))
    }

    @Test func fileStreamIgnoresDescriptorPosition() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 4)
        let bytes = rng.bytes(100_000)
        let path = dir.write("pos.bin", bytes)
        let fd = openRead(path)
        defer { close(fd) }
        lseek(fd, 12345, SEEK_SET)
        var s = Base64FileStream(fd: fd, size: Int64(bytes.count))
        #expect(try drain(&s, chunk: 4000) == encode(bytes))
        #expect(lseek(fd, 0, SEEK_CUR) == 12345)
    }

    @Test func rewindMidway() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 5)
        let bytes = rng.bytes(300_001)
        let path = dir.write("rw.bin", bytes)
        let expected = encode(bytes)
        let fd = openRead(path)
        defer { close(fd) }
        for firstPart in [1, 1000, 65536, 70_000, 200_000, expected.count] {
            var s = Base64FileStream(fd: fd, size: Int64(bytes.count))
            var buf = [UInt8](repeating: 0, count: firstPart)
            let n = try buf.withMutableBytes { (b) throws(OMError) in try s.read(into: b) }
            #expect(n == firstPart)
            #expect(Array(buf[0..<n]) == Array(expected[0..<n]))
            s.rewind()
            #expect(try drain(&s, chunk: 9999) == expected, "rewind after \(firstPart)")
            s.rewind()
            #expect(try drain(&s, chunk: 1 << 20) == expected)
        }
    }

    @Test func fileShrinkingUnderTheStreamThrows() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 6)
        let bytes = rng.bytes(200_000)
        let path = dir.write("shrink.bin", bytes)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        defer { close(fd) }
        var s = Base64FileStream(fd: fd, size: Int64(bytes.count), name: "image 'shrink.bin'")
        var buf = [UInt8](repeating: 0, count: 10_000)
        _ = try buf.withMutableBytes { (b) throws(OMError) in try s.read(into: b) }
        #expect(ftruncate(fd, 100_000) == 0)
        do {
            _ = try drain(&s, chunk: 10_000)
            Issue.record("expected an error")
        } catch {
            guard case .io(let m) = error else {
                Issue.record("expected .io, got \(error)")
                return
            }
            #expect(m.hasPrefix("image 'shrink.bin': "))
            #expect(m.contains("shorter"))
        }
        // A size larger than the file from the start.
        var t = Base64FileStream(fd: fd, size: 100_001)
        #expect(throws: OMError.self) { try drain(&t, chunk: 1 << 20) }
        // Growth is ignored: exactly `size` bytes are encoded.
        var g = Base64FileStream(fd: fd, size: 50_000)
        #expect(try drain(&g, chunk: 777) == encode(Array(bytes[0..<50_000])))
    }

    @Test func readErrorThrows() throws {
        // A descriptor that is not open for reading.
        let dir = TempDir()
        let path = dir.write("w.bin", [1, 2, 3])
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        defer { close(fd) }
        var s = Base64FileStream(fd: fd, size: 3)
        #expect(throws: OMError.self) { try drain(&s, chunk: 16) }
    }

    @Test func encoderSpeed() {
        var rng = SeededRandom(seed: 8)
        let bytes = rng.bytes(8 << 20)
        var dst = [UInt8](repeating: 0, count: Base64.encodedCount(bytes.count))
        let t0 = monotonicSeconds()
        let n = bytes.withUnsafeBytes { s in dst.withUnsafeMutableBytes { Base64.encode(s, into: $0) } }
        let t1 = monotonicSeconds()
        #expect(n == dst.count)
        print("Base64: 8 MiB encoded in \(Int((t1 - t0) * 1000)) ms (\(Int(8 / (t1 - t0))) MiB/s)")
    }
}
