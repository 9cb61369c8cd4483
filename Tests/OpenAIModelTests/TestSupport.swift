import Glibc
import Testing

@testable import OpenAIModel

/// A fresh folder under the system temp dir (mkdtemp), removed with all its
/// contents when the object goes away.
final class TempDir {
    let path: String

    init() {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/omtest.XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { buf in
            guard let made = mkdtemp(buf.baseAddress!) else { return "/nonexistent-omtest" }
            return String(cString: made)
        }
    }

    deinit {
        TempDir.remove(path)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes bytes to a new file and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = file(name)
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd >= 0 {
            var off = 0
            bytes.withUnsafeBytes { b in
                while off < b.count {
                    let r = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                    if r <= 0 { break }
                    off += r
                }
            }
            close(fd)
        }
        return p
    }

    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    static func remove(_ path: String) {
        var st = stat()
        if lstat(path, &st) != 0 { return }
        if st.st_mode & 0o170000 == 0o040000 {
            if let dir = opendir(path) {
                while let ent = readdir(dir) {
                    let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name == "." || name == ".." { continue }
                    remove("\(path)/\(name)")
                }
                closedir(dir)
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Deterministic random bytes (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        for i in 0..<n { out[i] = UInt8(truncatingIfNeeded: next()) }
        return out
    }
}

/// Monotonic seconds, for rough timings.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

extension Array where Element == UInt8 {
    /// withUnsafeBytes with a typed-throws body (Array.withUnsafeBytes rethrows untyped).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(OMError) -> R) throws(OMError) -> R {
        try withUnsafeBufferPointer { (b) throws(OMError) in try body(UnsafeRawBufferPointer(b)) }
    }

    mutating func withMutableBytes<R>(
        _ body: (UnsafeMutableRawBufferPointer) throws(OMError) -> R
    ) throws(OMError) -> R {
        try withUnsafeMutableBufferPointer { (b) throws(OMError) in
            try body(UnsafeMutableRawBufferPointer(b))
        }
    }
}
