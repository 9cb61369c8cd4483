import CJansson
import Glibc

/// A JSON value held by jansson. The wrapper owns one reference and drops it
/// when it goes away; children read from it are new owning wrappers.
///
/// Decoding is deliberately tolerant: accessors return nil for a missing key
/// or a value of another type, so servers that add or omit fields don't break
/// anything; callers decide what is required.
final class JSON: @unchecked Sendable {
    let raw: UnsafeMutablePointer<json_t>

    /// Takes over a new reference (from a json_* constructor). NULL means
    /// jansson could not allocate.
    static func adopt(_ p: UnsafeMutablePointer<json_t>?) throws(OMError) -> JSON {
        guard let p else { throw .outOfMemory }
        return JSON(owned: p)
    }

    /// Wraps a borrowed reference, taking a reference of its own.
    static func borrow(_ p: UnsafeMutablePointer<json_t>?) -> JSON? {
        guard let p else { return nil }
        return JSON(owned: omj_incref(p))
    }

    private init(owned: UnsafeMutablePointer<json_t>) { raw = owned }

    deinit { omj_decref(raw) }

    // MARK: Parsing

    /// Parses any JSON value (not only objects and arrays). `what` names the
    /// text in the error message.
    static func parse(_ bytes: UnsafeRawBufferPointer, what: String) throws(OMError) -> JSON {
        var err = json_error_t()
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        let p: UnsafeMutablePointer<json_t>?
        if let base {
            p = json_loadb(base, bytes.count, Int(JSON_DECODE_ANY | JSON_ALLOW_NUL), &err)
        } else {
            p = json_loadb("", 0, Int(JSON_DECODE_ANY), &err)
        }
        guard let p else {
            let text = withUnsafeBytes(of: &err.text) { tb -> String in
                let bytes = tb.bindMemory(to: UInt8.self)
                let n = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: bytes[0..<n], as: UTF8.self)
            }
            throw .parse("\(what) is not valid JSON (line \(err.line), column \(err.column): \(text))")
        }
        return JSON(owned: p)
    }

    /// The JSON value at the start of `bytes`, ignoring anything after it.
    static func parsePrefix(_ bytes: [UInt8]) throws(OMError) -> JSON {
        var err = json_error_t()
        let p = bytes.withUnsafeBytes { b -> UnsafeMutablePointer<json_t>? in
            guard let base = b.baseAddress else { return nil }
            return json_loadb(base.assumingMemoryBound(to: CChar.self), b.count,
                              Int(JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL), &err)
        }
        guard let p else { throw .parse("no JSON value at the start of the text") }
        return JSON(owned: p)
    }

    static func parse(_ bytes: [UInt8], what: String) throws(OMError) -> JSON {
        try bytes.withUnsafeBytes { b in Result { () throws(OMError) in try parse(b, what: what) } }.get()
    }

    static func parse(_ text: String, what: String) throws(OMError) -> JSON {
        var text = text
        return try text.withUTF8 { b in
            Result { () throws(OMError) in try parse(UnsafeRawBufferPointer(b), what: what) }
        }.get()
    }

    // MARK: Constructors

    static func object() throws(OMError) -> JSON { try adopt(json_object()) }
    static func array() throws(OMError) -> JSON { try adopt(json_array()) }
    static func null() throws(OMError) -> JSON { try adopt(json_null()) }
    static func bool(_ v: Bool) throws(OMError) -> JSON { try adopt(v ? json_true() : json_false()) }
    static func int(_ v: Int) throws(OMError) -> JSON { try adopt(json_integer(json_int_t(v))) }
    static func real(_ v: Double) throws(OMError) -> JSON { try adopt(json_real(v)) }

    /// A JSON string. Text that is not valid UTF-8 cannot come from a Swift
    /// String, so jansson's check is skipped.
    static func string(_ v: String) throws(OMError) -> JSON {
        var v = v
        let empty: StaticString = ""
        let p = v.withUTF8 { b in
            json_stringn_nocheck(UnsafeRawPointer(b.baseAddress ?? empty.utf8Start)
                .assumingMemoryBound(to: CChar.self), b.count)
        }
        return try adopt(p)
    }

    /// A JSON string from raw bytes, which must be valid UTF-8.
    static func string(bytes: UnsafeRawBufferPointer) throws(OMError) -> JSON {
        guard Sys.isValidUTF8(bytes) else { throw .invalidArgument("text is not valid UTF-8") }
        let empty: StaticString = ""
        let base = bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
        return try adopt(json_stringn_nocheck(base.assumingMemoryBound(to: CChar.self), bytes.count))
    }

    /// A string, or null for nil.
    static func stringOrNull(_ v: String?) throws(OMError) -> JSON {
        guard let v else { return try null() }
        return try string(v)
    }

    // MARK: Type

    enum Kind { case object, array, string, integer, real, bool, null }

    var kind: Kind {
        switch omj_typeof(raw) {
        case Int32(JSON_OBJECT.rawValue): return .object
        case Int32(JSON_ARRAY.rawValue): return .array
        case Int32(JSON_STRING.rawValue): return .string
        case Int32(JSON_INTEGER.rawValue): return .integer
        case Int32(JSON_REAL.rawValue): return .real
        case Int32(JSON_TRUE.rawValue), Int32(JSON_FALSE.rawValue): return .bool
        default: return .null
        }
    }

    var isObject: Bool { kind == .object }
    var isArray: Bool { kind == .array }
    var isNull: Bool { kind == .null }

    // MARK: Reading

    subscript(key: String) -> JSON? {
        guard isObject else { return nil }
        return JSON.borrow(json_object_get(raw, key))
    }

    subscript(index: Int) -> JSON? {
        guard isArray, index >= 0, index < json_array_size(raw) else { return nil }
        return JSON.borrow(json_array_get(raw, index))
    }

    /// Elements of an array or values of an object; 0 otherwise.
    var count: Int {
        switch kind {
        case .array: return json_array_size(raw)
        case .object: return json_object_size(raw)
        default: return 0
        }
    }

    /// The elements of an array (empty for other types).
    var elements: [JSON] {
        guard isArray else { return [] }
        let n = json_array_size(raw)
        var out: [JSON] = []
        out.reserveCapacity(n)
        for i in 0..<n { if let e = JSON.borrow(json_array_get(raw, i)) { out.append(e) } }
        return out
    }

    /// The members of an object, in the object's order (insertion order,
    /// which jansson keeps, so a file's order is preserved).
    var members: [(key: String, value: JSON)] {
        guard isObject else { return [] }
        var out: [(String, JSON)] = []
        var it = json_object_iter(raw)
        while let cur = it {
            if let k = json_object_iter_key(cur), let v = JSON.borrow(json_object_iter_value(cur)) {
                let len = json_object_iter_key_len(cur)
                let key = UnsafeRawBufferPointer(start: k, count: len)
                out.append((String(decoding: key, as: UTF8.self), v))
            }
            it = json_object_iter_next(raw, cur)
        }
        return out
    }

    var string: String? {
        guard kind == .string, let p = json_string_value(raw) else { return nil }
        let n = json_string_length(raw)
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// Calls body with the raw bytes of a string value (no copy).
    func withStringBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard kind == .string, let p = json_string_value(raw) else { return nil }
        return body(UnsafeRawBufferPointer(start: p, count: json_string_length(raw)))
    }

    var int: Int? {
        switch kind {
        case .integer: return Int(json_integer_value(raw))
        case .real:
            let d = json_real_value(raw)
            guard d.isFinite, d >= -9.0e15, d <= 9.0e15 else { return nil }
            return Int(d)
        default: return nil
        }
    }

    var double: Double? {
        switch kind {
        case .integer, .real: return json_number_value(raw)
        default: return nil
        }
    }

    var bool: Bool? {
        switch omj_typeof(raw) {
        case Int32(JSON_TRUE.rawValue): return true
        case Int32(JSON_FALSE.rawValue): return false
        default: return nil
        }
    }

    /// A scalar shown as text: strings as is, numbers and booleans printed;
    /// nil for null, arrays and objects. (Error `code` fields are strings
    /// on OpenAI and numbers on some compatible servers.)
    var scalarText: String? {
        switch kind {
        case .string: return string
        case .integer: return String(json_integer_value(raw))
        case .real: return String(json_real_value(raw))
        case .bool: return bool == true ? "true" : "false"
        default: return nil
        }
    }

    // MARK: Building

    @discardableResult
    func set(_ key: String, _ value: JSON) throws(OMError) -> JSON {
        var key = key
        let empty: StaticString = ""
        let rc = key.withUTF8 { kb -> Int32 in
            let base = UnsafeRawPointer(kb.baseAddress ?? empty.utf8Start).assumingMemoryBound(to: CChar.self)
            return json_object_setn_nocheck(raw, base, kb.count, value.raw)
        }
        if rc != 0 { throw .outOfMemory }
        return self
    }

    @discardableResult
    func set(_ key: String, _ value: String) throws(OMError) -> JSON { try set(key, JSON.string(value)) }

    @discardableResult
    func set(_ key: String, _ value: Int) throws(OMError) -> JSON { try set(key, JSON.int(value)) }

    @discardableResult
    func set(_ key: String, _ value: Bool) throws(OMError) -> JSON { try set(key, JSON.bool(value)) }

    func append(_ value: JSON) throws(OMError) {
        if json_array_append(raw, value.raw) != 0 { throw .outOfMemory }
    }

    func append(_ value: String) throws(OMError) { try append(JSON.string(value)) }

    func remove(_ key: String) { _ = json_object_del(raw, key) }

    // MARK: Serializing

    /// Compact JSON text on the C heap (malloc): can be handed to the host,
    /// who releases it with om_string_free.
    func dumpC() throws(OMError) -> UnsafeMutablePointer<CChar> {
        guard let p = json_dumps(raw, Int(JSON_COMPACT | JSON_ENCODE_ANY)) else {
            throw .outOfMemory
        }
        return p
    }

    /// Compact JSON text as bytes.
    func dumpBytes() throws(OMError) -> [UInt8] {
        let p = try dumpC()
        defer { free(p) }
        let n = strlen(p)
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// Indented JSON text as bytes (for files people read).
    func dumpPretty() throws(OMError) -> [UInt8] {
        // JSON_INDENT(2) is a function-like macro: its value is 2.
        guard let p = json_dumps(raw, Int(2 | JSON_ENCODE_ANY)) else { throw .outOfMemory }
        defer { free(p) }
        return Array(UnsafeRawBufferPointer(start: p, count: strlen(p)))
    }

    func dump() throws(OMError) -> String {
        let p = try dumpC()
        defer { free(p) }
        return String(cString: p)
    }
}
