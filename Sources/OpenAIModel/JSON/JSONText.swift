/// JSON text written straight to bytes, for the few documents made on every
/// request (a chat body, a dialogue line): the same bytes as jansson's
/// compact dump of the same tree, without building the tree.
enum JSONText {
    /// A JSON string literal as jansson writes one: `"` and `\\` escaped,
    /// \b \f \n \r \t, other control characters as \u00XX; everything else
    /// (including "/" and non-ASCII) as is.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789ABCDEF"
        out.append(34)
        let plain = s.utf8.withContiguousStorageIfAvailable { b -> Bool in
            for c in b where c < 0x20 || c == 34 || c == 92 { return false }
            out.append(contentsOf: b)  // nothing to escape: in one go
            return true
        }
        if plain == true {
            out.append(34)
            return
        }
        for b in s.utf8 {
            if b >= 0x20 && b != 34 && b != 92 {
                out.append(b)
                continue
            }
            out.append(92)
            switch b {
            case 34: out.append(34)
            case 92: out.append(92)
            case 8: out.append(98)
            case 12: out.append(102)
            case 10: out.append(110)
            case 13: out.append(114)
            case 9: out.append(116)
            default:
                out.append(contentsOf: [117, 48, 48, hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 15)]])
            }
        }
        out.append(34)
    }
}
