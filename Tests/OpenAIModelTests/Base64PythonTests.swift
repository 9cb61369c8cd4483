import Glibc
import Testing

@testable import OpenAIModel

/// The base64 encoder against Python's `base64` module: random inputs of
/// every length 0...4096, and a large file streamed through
/// Base64FileStream. Python reads what Swift wrote and compares.
@Suite struct Base64AgainstPython {
    /// Runs a Python script with arguments; true when it exits 0.
    private func python(_ script: String, _ args: [String]) -> Bool {
        let dir = TempDir()
        let file = dir.write("check.py", script)
        let quoted = ([file] + args).map { "'\($0)'" }.joined(separator: " ")
        return system("python3 \(quoted)") == 0
    }

    @Test func everyLengthUpTo4096() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 0x0BA5E64)
        var inputs: [UInt8] = []
        var outputs: [UInt8] = []
        for n in 0...4096 {
            let src = rng.bytes(n)
            var dst = [UInt8](repeating: 0, count: Base64.encodedCount(n))
            let written = src.withUnsafeBytes { s in dst.withUnsafeMutableBytes { d in Base64.encode(s, into: d) } }
            #expect(written == dst.count)
            inputs.append(contentsOf: src)
            outputs.append(contentsOf: dst)
            outputs.append(10)
        }
        let inPath = dir.write("inputs.bin", inputs)
        let outPath = dir.write("outputs.txt", outputs)
        let script = """
        import base64, sys
        data = open(sys.argv[1], 'rb').read()
        lines = open(sys.argv[2], 'rb').read().split(b'\\n')
        pos = 0
        for n in range(4097):
            want = base64.b64encode(data[pos:pos + n])
            if lines[n] != want:
                print('length', n, 'differs'); sys.exit(1)
            pos += n
        """
        #expect(python(script, [inPath, outPath]), "Python's base64 disagrees")
    }

    @Test func largeFileStream() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 42)
        // 24 MiB + 2 bytes: many read chunks and a padded end.
        let size = 24 * 1024 * 1024 + 2
        let src = dir.write("large.bin", rng.bytes(size))
        let fd = open(src, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var stream = Base64FileStream(fd: fd, size: Int64(size))
        let outPath = dir.file("large.b64")
        let out = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(out) }
        var buf = [UInt8](repeating: 0, count: 100_003)
        var total = 0
        while true {
            let n = try buf.withUnsafeMutableBytes { b in
                Result { () throws(OMError) -> Int in try stream.read(into: b) }
            }.get()
            if n == 0 { break }
            _ = buf.withUnsafeBytes { write(out, $0.baseAddress, n) }
            total += n
        }
        #expect(Int64(total) == stream.encodedSize)
        let script = """
        import base64, sys
        ok = base64.b64encode(open(sys.argv[1], 'rb').read()) == open(sys.argv[2], 'rb').read()
        sys.exit(0 if ok else 1)
        """
        #expect(python(script, [src, outPath]), "Python's base64 disagrees on the large file")
    }
}
