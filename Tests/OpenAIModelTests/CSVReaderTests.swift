import Glibc
import Testing

@testable import OpenAIModel

private struct Record: Equatable, Sendable, CustomStringConvertible {
    var line: Int
    var fields: [String]
    var description: String { "\(line):\(fields)" }
}

private func readAll(_ r: inout CSVReader) throws(OMError) -> [Record] {
    var out: [Record] = []
    while try r.next() {
        out.append(Record(line: r.line, fields: r.fields))
    }
    // Stays at the end.
    if try r.next() { out.append(Record(line: -1, fields: ["unexpected record after the end"])) }
    return out
}

private func parse(_ text: String) throws(OMError) -> [[String]] {
    var r = CSVReader(text: text, name: "CSV data")
    return try readAll(&r).map(\.fields)
}

private func parseRecords(_ text: String) throws(OMError) -> [Record] {
    var r = CSVReader(text: text, name: "CSV data")
    return try readAll(&r)
}

private func parseFile(_ path: String) throws(OMError) -> [Record] {
    var r = try CSVReader.open(path: path)
    return try readAll(&r)
}

private func parseError(_ text: String) -> OMError? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error
    }
}

private func fileError(_ path: String) -> OMError? {
    do {
        _ = try parseFile(path)
        return nil
    } catch {
        return error
    }
}

/// Serialises records as CSV, quoting only fields that need it (and some
/// that don't), with the given line end.
private func serialize(_ records: [[String]], lineEnd: String, rng: inout SeededRandom) -> String {
    var s = ""
    for rec in records {
        var first = true
        for f in rec {
            if !first { s += "," }
            first = false
            // Bytes, not Characters: "\r\n" is one Character that contains neither "\r" nor "\n".
            let needs = f.isEmpty
                || f.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            if needs || rng.next() % 4 == 0 {
                s += "\"" + f.replacingQuotes() + "\""
            } else {
                s += f
            }
        }
        s += lineEnd
    }
    return s
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in self {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out
    }
}

private func randomField(_ rng: inout SeededRandom) -> String {
    let pieces = ["a", "b", "hello", "42", " ", ",", "\"", "\n", "\r\n", "é", "😀", "中文", "x\"y",
                  "-", "long text with words", "\t", "''"]
    let n = Int(rng.next() % 6)
    var s = ""
    for _ in 0..<n { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
    return s
}

@Suite struct CSVReaderTests {
    @Test func simple() throws {
        #expect(try parse("a,b,c\n1,2,3\n") == [["a", "b", "c"], ["1", "2", "3"]])
        #expect(try parse("one") == [["one"]])
        #expect(try parse("a,b\nc,d") == [["a", "b"], ["c", "d"]])  // no final line end
    }

    @Test func quotedFields() throws {
        #expect(try parse("\"a,b\",\"c\"\"d\",\"\"\n") == [["a,b", "c\"d", ""]])
        #expect(try parse("\"\"\"\"\n") == [["\""]])
        #expect(try parse("\"x\"") == [["x"]])
        #expect(try parse("\"\"") == [[""]])
        #expect(try parse("a,\"\"") == [["a", ""]])
        #expect(try parse("\"a\",\"b\"\r\n\"c\",d") == [["a", "b"], ["c", "d"]])
        #expect(try parse("\"He said \"\"hi\"\"\",ok\n") == [["He said \"hi\"", "ok"]])
    }

    @Test func emptyFields() throws {
        #expect(try parse("a,\n") == [["a", ""]])
        #expect(try parse(",\n") == [["", ""]])
        #expect(try parse(",,") == [["", "", ""]])
        #expect(try parse("a,b,") == [["a", "b", ""]])
        #expect(try parse(" \n") == [[" "]])  // whitespace is not a blank line
    }

    @Test func embeddedNewlinesAndLineNumbers() throws {
        #expect(
            try parseRecords("\"x\ny\",z\nnext,1\n\"p\r\nq\"\rlast\n")
                == [
                    Record(line: 1, fields: ["x\ny", "z"]),
                    Record(line: 3, fields: ["next", "1"]),
                    Record(line: 4, fields: ["p\r\nq"]),
                    Record(line: 6, fields: ["last"]),
                ])
        // A CR CR inside quotes is two lines.
        #expect(
            try parseRecords("\"a\r\rb\"\nc\n")
                == [Record(line: 1, fields: ["a\r\rb"]), Record(line: 4, fields: ["c"])])
    }

    @Test func lineEndings() throws {
        let expected = [["a", "b"], ["c", "d"]]
        #expect(try parse("a,b\r\nc,d\r\n") == expected)
        #expect(try parse("a,b\nc,d\n") == expected)
        #expect(try parse("a,b\rc,d\r") == expected)
        #expect(try parse("a,b\r\nc,d\r") == expected)
        #expect(try parse("a,b\rc,d") == expected)
    }

    @Test func bomAndBlankLines() throws {
        #expect(try parse("\u{FEFF}a,b\n") == [["a", "b"]])
        #expect(try parse("\u{FEFF}\"a\",b\n") == [["a", "b"]])
        #expect(try parse("\u{FEFF}") == [])
        // Only the first BOM is skipped.
        #expect(try parse("\u{FEFF}\u{FEFF}a\n") == [["\u{FEFF}a"]])
        // A BOM elsewhere is data.
        #expect(try parse("a\n\u{FEFF}b\n") == [["a"], ["\u{FEFF}b"]])
        #expect(
            try parseRecords("\n\na\n\n\r\n\rb\n\n")
                == [Record(line: 3, fields: ["a"]), Record(line: 7, fields: ["b"])])
    }

    @Test func emptyInputAndHeaderOnly() throws {
        #expect(try parse("") == [])
        #expect(try parse("\n") == [])
        #expect(try parse("\r\n\r\n") == [])
        #expect(try parse("name,age\n") == [["name", "age"]])
        #expect(try parse("name,age") == [["name", "age"]])
    }

    @Test func bareQuoteInUnquotedFieldIsKept() throws {
        #expect(try parse("ab\"c,d\n") == [["ab\"c", "d"]])
        #expect(try parse("5\" screen,x\"\"y\n") == [["5\" screen", "x\"\"y"]])
        #expect(try parse(" \"a\",b\n") == [[" \"a\"", "b"]])
    }

    @Test func unicode() throws {
        #expect(try parse("é,😀,中文\n\"ü,ß\",x") == [["é", "😀", "中文"], ["ü,ß", "x"]])
    }

    @Test func unterminatedQuote() {
        #expect(
            parseError("a,b\nc,\"d\ne\n")
                == .data("CSV data:2:3: unterminated quoted field (the quote opened here is never closed)"))
        #expect(
            parseError("\"")
                == .data("CSV data:1:1: unterminated quoted field (the quote opened here is never closed)"))
    }

    @Test func junkAfterClosingQuote() {
        let m = "after the closing quote of a field (a quote inside a quoted field must be doubled)"
        #expect(parseError("a,\"b\"x,c\n") == .data("CSV data:1:6: unexpected 'x' \(m)"))
        #expect(parseError("\"a\" ,b\n") == .data("CSV data:1:4: unexpected ' ' \(m)"))
        // Line and column after a multi-line field, with multi-byte characters.
        #expect(parseError("\"1\n2\n3\",x\nfoo,\"bar\"baz\n") == .data("CSV data:4:10: unexpected 'b' \(m)"))
        #expect(parseError("é,\"x\"y") == .data("CSV data:1:6: unexpected 'y' \(m)"))
        #expect(parseError("\u{FEFF}\"a\"x") == .data("CSV data:1:4: unexpected 'x' \(m)"))
        #expect(parseError("x\r\n\"a\r\nb\"\tc") == .data("CSV data:3:3: unexpected byte 0x9 \(m)"))
    }

    @Test func errorAfterGoodRecords() throws {
        var r = CSVReader(text: "a\nb\n\"c\"d\n", name: "data.csv")
        #expect(try r.next())
        #expect(try r.next())
        #expect(throws: OMError.data(
            "data.csv:3:4: unexpected 'd' after the closing quote of a field (a quote inside a quoted field must be doubled)"
        )) { try r.next() }
    }

    @Test func fieldAccess() throws {
        var r = CSVReader(text: "x,\"y\"\"z\",\n", name: "CSV data")
        #expect(r.name == "CSV data")
        #expect(r.line == 0)
        #expect(try r.next())
        #expect(r.fieldCount == 3)
        #expect(r.field(0) == "x")
        #expect(r.field(1) == "y\"z")
        #expect(r.field(2) == "")
        #expect(r.field(3) == "")
        #expect(r.field(-1) == "")
        let bytes = try r.withField(1) { (b) throws(OMError) in Array(b) }
        #expect(bytes == Array("y\"z".utf8))
        #expect(try r.withField(7) { (b) throws(OMError) in b.count } == 0)
        #expect(try r.withField(-7) { (b) throws(OMError) in b.count } == 0)
        #expect(throws: OMError.cancelled("x")) {
            try r.withField(0) { (_) throws(OMError) -> Int in throw .cancelled("x") }
        }
        #expect(r.bytesRead == 10)
        #expect(try !r.next())
        #expect(r.fieldCount == 0)
    }

    @Test func invalidUTF8InFile() {
        let dir = TempDir()
        let cases: [([UInt8], String)] = [
            ([0x61, 0x2C, 0xFF, 0x0A], "1:3: invalid UTF-8 (byte 0xff)"),
            ([0x61, 0x0A, 0xC3, 0xA9, 0x2C, 0xC0, 0x80], "2:3: invalid UTF-8 (byte 0xc0)"),  // overlong
            ([0xED, 0xA0, 0x80], "1:1: invalid UTF-8 (byte 0xa0 in a multi-byte character)"),  // surrogate
            ([0x22, 0x61, 0xE2, 0x82, 0x22], "1:3: invalid UTF-8 (byte 0x22 in a multi-byte character)"),
            ([0x61, 0xE2, 0x82], "1:2: invalid UTF-8 (a character is cut off at the end of the input)"),
            ([0xF4, 0x90, 0x80, 0x80], "1:1: invalid UTF-8 (byte 0x90 in a multi-byte character)"),  // > U+10FFFF
            ([0x80], "1:1: invalid UTF-8 (byte 0x80)"),
        ]
        for (i, (bytes, msg)) in cases.enumerated() {
            let path = dir.write("bad\(i).csv", bytes)
            #expect(fileError(path) == .data("\(path):\(msg)"))
        }
    }

    @Test func multiByteCharacterAcrossBlocks() throws {
        let dir = TempDir()
        let block = CSVReader.blockSize
        for shift in 0...4 {
            // A line of 'a's putting "中😀" across the 64 KiB block boundary.
            let text = String(repeating: "a", count: block - 3 + shift) + "中😀,\"é\n\"\nnext\n"
            let path = dir.write("split\(shift).csv", text)
            let recs = try parseFile(path)
            #expect(recs.count == 2)
            #expect(recs.first?.fields.last == "é\n")
            #expect(recs.last == Record(line: 3, fields: ["next"]))
            #expect(try parseRecords(text) == recs)
            // Invalid byte in a sequence across the boundary: the column is the lead's.
            var bytes = [UInt8](repeating: 0x61, count: block - 2 + shift)
            bytes += [0xF0, 0x9F, 0x98, 0x41]
            let bad = dir.write("badsplit\(shift).csv", bytes)
            #expect(
                fileError(bad)
                    == .data("\(bad):1:\(block - 1 + shift): invalid UTF-8 (byte 0x41 in a multi-byte character)"))
        }
    }

    @Test func crlfAcrossBlocks() throws {
        let dir = TempDir()
        let block = CSVReader.blockSize
        // CR as the last byte of the first block, LF the first of the next.
        let first = String(repeating: "a", count: block - 1)
        let path = dir.write("crlf.csv", first + "\r\nb\r\n\"q\r\r\nz\"\r\nend")
        #expect(
            try parseFile(path)
                == [
                    Record(line: 1, fields: [first]), Record(line: 2, fields: ["b"]),
                    Record(line: 3, fields: ["q\r\r\nz"]), Record(line: 6, fields: ["end"]),
                ])
    }

    @Test func quotesAcrossBlocks() throws {
        let dir = TempDir()
        let block = CSVReader.blockSize
        for shift in -3...3 {
            // `"xxx…""y",z` with the doubled quote, and then the closing quote
            // and the comma, falling on the block boundary.
            let xs = String(repeating: "x", count: block - 3 + shift)
            let text = "\"" + xs + "\"\"y\",z\r\n\"a\"\r\nlast"
            let path = dir.write("q\(shift).csv", text)
            let expected = [
                Record(line: 1, fields: [xs + "\"y", "z"]), Record(line: 2, fields: ["a"]),
                Record(line: 3, fields: ["last"]),
            ]
            #expect(try parseFile(path) == expected, "shift \(shift)")
            #expect(try parseRecords(text) == expected)
        }
    }

    /// Random bytes biased to CSV's special characters, read from files with
    /// a small record limit: records or OMError.data, never a trap; valid
    /// UTF-8 gives the same result from text.
    @Test func fuzz() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 123)
        let alphabet: [UInt8] = Array(",\"\r\n a".utf8) + [0xC3, 0xA9, 0xE4, 0xB8, 0xAD, 0xF0, 0x9F, 0x98, 0x80, 0xEF, 0xBB, 0xBF]
        for i in 0..<1500 {
            let n = Int(rng.next() % 120)
            var bytes = [UInt8]()
            for _ in 0..<n {
                bytes.append(rng.next() % 10 == 0
                    ? UInt8(truncatingIfNeeded: rng.next())
                    : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let path = dir.write("fuzz\(i % 10).csv", bytes)
            let fromFile = Result { () throws(OMError) -> [Record] in
                var r = try CSVReader.open(path: path, maxRecordBytes: 40)
                return try readAll(&r)
            }
            if case .failure(let e) = fromFile {
                guard case .data(let m) = e, m.hasPrefix(path + ":") else {
                    Issue.record("unexpected error \(e)")
                    continue
                }
            }
            if let text = String(validating: bytes, as: UTF8.self) {
                let fromText = Result { () throws(OMError) -> [Record] in
                    var r = CSVReader(text: text, name: path, maxRecordBytes: 40)
                    return try readAll(&r)
                }
                #expect(fromText == fromFile)
            }
        }
    }

    @Test func generatedFileEqualsTextPathAndSource() throws {
        let dir = TempDir()
        var rng = SeededRandom(seed: 11)
        var records: [[String]] = []
        var size = 0
        while size < 4_000_000 {
            let n = 1 + Int(rng.next() % 8)
            let rec = (0..<n).map { _ in randomField(&rng) }
            if rec == [""] { continue }  // serialises as "" (quoted): fine, but keep it simple
            size += rec.reduce(0) { $0 + $1.utf8.count + 3 }
            records.append(rec)
        }
        let tg = monotonicSeconds()
        defer { print("CSV: generated test took \(Int((monotonicSeconds() - tg) * 1000)) ms in all") }
        for lineEnd in ["\n", "\r\n"] {
            var text = serialize(records, lineEnd: lineEnd, rng: &rng)
            if lineEnd == "\n" { text = "\u{FEFF}" + text }
            let path = dir.write("gen.csv", text)
            let t0 = monotonicSeconds()
            let fromFile = try parseFile(path)
            let t1 = monotonicSeconds()
            let fromText = try parseRecords(text)
            #expect(fromFile.count == records.count)
            // Compare without printing megabytes on a mismatch.
            let firstDiffText = zip(fromFile, fromText).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(firstDiffText == nil && fromFile.count == fromText.count)
            let firstDiff = zip(fromFile, records).enumerated().first { $0.element.0.fields != $0.element.1 }?.offset
            #expect(firstDiff == nil, "first difference at record \(firstDiff ?? -1)")
            // Line numbers: each record starts after the line ends of the previous ones.
            var line = 1
            var ok = true
            for (i, rec) in records.enumerated() {
                if fromFile[i].line != line { ok = false; break }
                for f in rec {
                    var prevCR = false
                    for u in f.utf8 {
                        if u == 0x0A && !prevCR || u == 0x0D { line += 1 }
                        prevCR = u == 0x0D
                    }
                }
                line += 1
            }
            #expect(ok, "line numbers")
            print("CSV: \(text.utf8.count) bytes, \(records.count) records read from a file in \(Int((t1 - t0) * 1000)) ms")
        }
    }

    @Test func bytesReadReachesFileSize() throws {
        let dir = TempDir()
        let text = String(repeating: "abc,def,\"g\nh\"\n", count: 20_000)
        let path = dir.write("p.csv", text)
        var r = try CSVReader.open(path: path)
        #expect(r.name == path)
        var n = 0
        var last: Int64 = 0
        var monotone = true
        while try r.next() {
            n += 1
            if r.bytesRead < last { monotone = false }
            last = r.bytesRead
        }
        #expect(n == 20_000)
        #expect(monotone)
        #expect(r.bytesRead == Int64(text.utf8.count))
    }

    @Test func recordSizeLimit() throws {
        // A long unquoted record.
        let long = "ok\n" + String(repeating: "x", count: 300_000) + "\nafter\n"
        var r = CSVReader(text: long, name: "CSV data", maxRecordBytes: 100_000)
        #expect(try r.next())
        #expect(throws: OMError.data("CSV data:2: a record is longer than the 100000-byte limit")) {
            try r.next()
        }
        // Many empty fields.
        var r2 = CSVReader(text: String(repeating: ",", count: 300_000), name: "CSV data", maxRecordBytes: 100_000)
        #expect(throws: OMError.data("CSV data:1: a record is longer than the 100000-byte limit")) {
            try r2.next()
        }
        // An unterminated quote in a big file points at the quote.
        let dir = TempDir()
        let path = dir.write("q.csv", "a,b\nc,\"d\n" + String(repeating: "zzzzzzzzz\n", count: 30_000))
        var r3 = try CSVReader.open(path: path, maxRecordBytes: 100_000)
        #expect(try r3.next())
        #expect(throws: OMError.data(
            "\(path):2:3: a quoted field runs over the 100000-byte record limit (is its closing quote missing?)"
        )) { try r3.next() }
        // Under the limit is fine.
        var r4 = CSVReader(text: String(repeating: "y", count: 90_000), name: "CSV data", maxRecordBytes: 100_000)
        #expect(try r4.next())
        #expect(r4.field(0).utf8.count == 90_000)
        #expect(CSVReader(text: "", name: "x").maxRecordBytes == 64 << 20)
    }

    @Test func openErrors() {
        let dir = TempDir()
        let missing = dir.file("none.csv")
        #expect(fileError(missing) == .noFile("CSV file '\(missing)': no such file"))
        let folder = dir.file("folder.csv")
        mkdir(folder, 0o755)
        #expect(fileError(folder) == .data("CSV file '\(folder)' is a folder, not a file"))
        let fifo = dir.file("fifo.csv")
        mkfifo(fifo, 0o644)
        #expect(fileError(fifo) == .data("CSV file '\(fifo)' is not a regular file"))
        #expect(fileError("") == .invalidArgument("CSV file path is empty"))
        let empty = dir.write("empty.csv", "")
        #expect(fileError(empty) == nil)
    }

    @Test func fileEqualsTextForTrickyInputs() throws {
        let dir = TempDir()
        let inputs = [
            "", "\n", "a", "a,b\r\nc", "\u{FEFF}x,\"y\"\"\"\r\n\r\n,\n", "\"a\nb\"\r\"c\"", "ab\"c,\"\"",
            "\r\r\r", "é", ",",
        ]
        for (i, text) in inputs.enumerated() {
            let path = dir.write("t\(i).csv", text)
            #expect(try parseFile(path) == parseRecords(text), "input \(i)")
        }
    }
}
