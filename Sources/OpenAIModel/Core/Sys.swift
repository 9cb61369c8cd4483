import Glibc
import Synchronization

/// Small POSIX helpers used across the core.
enum Sys {
    /// The value of an environment variable; nil when unset or empty.
    static func env(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        let s = String(cString: p)
        return s.isEmpty ? nil : s
    }

    /// Monotonic time in nanoseconds.
    static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Monotonic time in milliseconds.
    static func millis() -> Int64 { Int64(nanos() / 1_000_000) }

    /// Seconds since the epoch.
    static func epochSeconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec)
    }

    /// The text of an errno value.
    static func errnoText(_ e: Int32) -> String {
        guard let p = strerror(e) else { return "errno \(e)" }
        return String(cString: p)
    }

    /// Reads a C string that must be valid UTF-8.
    static func utf8(_ p: UnsafePointer<CChar>, what: String) throws(OMError) -> String {
        guard let s = String(validatingCString: p) else {
            throw .invalidArgument("\(what) is not valid UTF-8")
        }
        return s
    }

    /// Reads an optional C string argument: NULL gives nil.
    static func optionalUTF8(_ p: UnsafePointer<CChar>?, what: String) throws(OMError) -> String? {
        guard let p else { return nil }
        return try utf8(p, what: what)
    }

    /// Reads a required C string argument: NULL is an error; empty is an
    /// error unless allowed.
    static func requiredUTF8(_ p: UnsafePointer<CChar>?, what: String, allowEmpty: Bool = false) throws(OMError) -> String {
        guard let p else { throw .invalidArgument("\(what) is NULL") }
        let s = try utf8(p, what: what)
        if !allowEmpty && s.isEmpty { throw .invalidArgument("\(what) is empty") }
        return s
    }

    /// Whether a byte sequence is valid UTF-8.
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// A NUL-terminated copy on the C heap, released with free() (what
    /// om_string_free does). nil only when memory is exhausted.
    static func mallocCString(_ s: String) -> UnsafeMutablePointer<CChar>? {
        var s = s
        return s.withUTF8 { buf -> UnsafeMutablePointer<CChar>? in
            guard let p = malloc(buf.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
            if let base = buf.baseAddress { memcpy(p, base, buf.count) }
            p[buf.count] = 0
            return p
        }
    }

    /// A NUL-terminated copy of bytes on the C heap.
    static func mallocCString(bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<CChar>? {
        guard let p = malloc(bytes.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
        if let base = bytes.baseAddress { memcpy(p, base, bytes.count) }
        p[bytes.count] = 0
        return p
    }

    /// A random 64-bit value from the system's generator.
    static func random64() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }

    /// `n` random bytes as lowercase hex, drawn eight at a time (each draw
    /// is a getrandom(2) call; every POST takes a 16-byte idempotency key).
    static func randomHex(_ n: Int) -> String {
        let digits: StaticString = "0123456789abcdef"
        let count = max(n, 0)
        var g = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: count * 2) { out in
            let d = digits.utf8Start
            var word: UInt64 = 0
            for i in 0..<count {
                if i % 8 == 0 { word = g.next() }
                let b = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i % 8)))
                out[2 * i] = d[Int(b >> 4)]
                out[2 * i + 1] = d[Int(b & 15)]
            }
            return count * 2
        }
    }

    /// Writes 32 lowercase hex digits at `dst`, different for every call in
    /// this process (a counter through a bijective mixer) and, from a random
    /// 128-bit seed, across processes. For idempotency keys, which must be
    /// unique, not secret: no system call per key. A child made by fork()
    /// draws a new seed at once (it would otherwise send the parent's next
    /// keys, and the API would answer its POST with the parent's response).
    static func uniqueKey(into dst: UnsafeMutablePointer<UInt8>) {
        _ = keySeeded
        let n = keyCounter.add(1, ordering: .relaxed).newValue
        let hi = mix(keySeed0.load(ordering: .relaxed) &+ n &* 0x9E37_79B9_7F4A_7C15)
        let lo = mix(keySeed1.load(ordering: .relaxed) ^ n)
        let digits: StaticString = "0123456789abcdef"
        let d = digits.utf8Start
        for i in 0..<16 {
            dst[i] = d[Int((hi >> (60 - 4 * UInt64(i))) & 15)]
            dst[16 + i] = d[Int((lo >> (60 - 4 * UInt64(i))) & 15)]
        }
    }

    /// `uniqueKey` as a String.
    static func uniqueKey() -> String {
        String(unsafeUninitializedCapacity: 32) { out in
            uniqueKey(into: out.baseAddress!)
            return 32
        }
    }

    private static let keySeed0 = Atomic<UInt64>(0)
    private static let keySeed1 = Atomic<UInt64>(0)
    private static let keyCounter = Atomic<UInt64>(0)

    private static func drawKeySeed() {
        var g = SystemRandomNumberGenerator()
        keySeed0.store(g.next(), ordering: .relaxed)
        keySeed1.store(g.next(), ordering: .relaxed)
    }

    /// The first seed, and a new one in every child of a fork().
    private static let keySeeded: Bool = {
        drawKeySeed()
        pthread_atfork(nil, nil) { Sys.drawKeySeed() }
        return true
    }()

    /// SplitMix64's finalizer: a bijection of UInt64 that spreads every bit.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The id of the calling thread.
    static func threadID() -> UInt { UInt(pthread_self()) }

    /// The process id.
    static func pid() -> Int32 { getpid() }
}

extension String {
    /// The string with leading and trailing white space (Unicode) removed.
    func trimmedWhitespace() -> String {
        // Most texts begin and end with a visible ASCII character: nothing to
        // trim, and no walk over Characters.
        if let f = utf8.first, let l = utf8.last, f > 32, f < 127, l > 32, l < 127 { return self }
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isWhitespace { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            if self[before].isWhitespace { end = before } else { break }
        }
        return String(self[start..<end])
    }

    /// Whether `needle` occurs in the string (byte-wise on UTF-8).
    func containsBytes(_ needle: String) -> Bool {
        let h = Array(self.utf8), n = Array(needle.utf8)
        return h.firstRange(of: n) != nil
    }

    /// Replaces every occurrence of `needle` (non-empty) with `replacement`.
    func replacingAll(_ needle: String, with replacement: String) -> String {
        guard !needle.isEmpty else { return self }
        let h = Array(self.utf8), n = Array(needle.utf8), r = Array(replacement.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(h.count)
        var i = 0
        var found = false
        while i < h.count {
            if i + n.count <= h.count, h[i] == n[0], h[i..<(i + n.count)].elementsEqual(n) {
                out.append(contentsOf: r)
                i += n.count
                found = true
            } else {
                out.append(h[i])
                i += 1
            }
        }
        return found ? String(decoding: out, as: UTF8.self) : self
    }

    func lowercasedASCII() -> String {
        String(decoding: self.utf8.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        var i = 0
        let last = count - needle.count
        while i <= last {
            if self[i] == needle[0] {
                var j = 1
                while j < needle.count && self[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i..<(i + needle.count) }
            }
            i += 1
        }
        return nil
    }
}
