import Testing
@testable import OpenAIModel

// Tests of the per-request paths made faster for the benchmarks (bench/):
// what they produce must not change.

@Suite struct RandomHex {
    @Test(arguments: [0, 1, 6, 7, 8, 9, 12, 16, 33])
    func lengthAndDigits(_ n: Int) {
        let s = Sys.randomHex(n)
        #expect(s.utf8.count == 2 * n)
        #expect(s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
    }

    @Test func keysDiffer() {
        var seen = Set<String>()
        for _ in 0..<1000 { seen.insert(Sys.randomHex(16)) }
        #expect(seen.count == 1000)
    }

    @Test func everyByteValueAppears() {
        // Every byte of each word is used: over many draws each of the 16
        // digits shows in every position.
        var positions = [Set<UInt8>](repeating: [], count: 32)
        for _ in 0..<2000 {
            for (i, c) in Sys.randomHex(16).utf8.enumerated() { positions[i].insert(c) }
        }
        #expect(positions.allSatisfy { $0.count == 16 })
    }
}
