/// C strings with static storage: Swift string literals given as
/// `StaticString` are stored NUL-terminated in the binary's read-only data.
enum StaticStrings {
    static func c(_ s: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    static var version: UnsafePointer<CChar> { c("1.0.0") }
}
