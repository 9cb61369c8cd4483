import COpenAIModel
import Glibc

/// Where a handle's log lines go: the host's callback, else stderr. Lines
/// are scrubbed of the API key before they leave.
struct Logger: @unchecked Sendable {
    let level: Int32
    let callback: om_log_cb?
    let userdata: UnsafeMutableRawPointer?
    let secret: String?

    static let off = Logger(level: OM_LOG_OFF, callback: nil, userdata: nil, secret: nil)

    /// The level from the option, else OPENAI_LOG (info|debug), else
    /// warnings and errors.
    static func resolveLevel(_ option: Int32) -> Int32 {
        if option != OM_LOG_DEFAULT { return option < 0 ? OM_LOG_OFF : min(option, OM_LOG_DEBUG) }
        switch Sys.env("OPENAI_LOG")?.lowercasedASCII() {
        case "debug": return OM_LOG_DEBUG
        case "info": return OM_LOG_INFO
        case "warn", "warning": return OM_LOG_WARN
        case "error": return OM_LOG_ERROR
        case "off", "none": return OM_LOG_OFF
        default: return OM_LOG_WARN
        }
    }

    func enabled(_ l: Int32) -> Bool { l <= level && level > 0 }

    func log(_ l: Int32, _ message: @autoclosure () -> String) {
        guard enabled(l) else { return }
        let text = Secrets.scrub(message(), secret)
        if let callback {
            text.withCString { callback(l, $0, userdata) }
        } else {
            let name: String
            switch l {
            case OM_LOG_ERROR: name = "error"
            case OM_LOG_WARN: name = "warn"
            case OM_LOG_INFO: name = "info"
            default: name = "debug"
            }
            let line = "openaimodel[\(name)]: \(text)\n"
            var bytes = Array(line.utf8)
            _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    func error(_ m: @autoclosure () -> String) { log(OM_LOG_ERROR, m()) }
    func warn(_ m: @autoclosure () -> String) { log(OM_LOG_WARN, m()) }
    func info(_ m: @autoclosure () -> String) { log(OM_LOG_INFO, m()) }
    func debug(_ m: @autoclosure () -> String) { log(OM_LOG_DEBUG, m()) }
}

/// Keeps the API key out of anything the library writes or shows.
enum Secrets {
    /// `text` with every occurrence of the key replaced by a mask.
    static func scrub(_ text: String, _ secret: String?) -> String {
        guard let secret, secret.utf8.count >= 4 else { return text }
        return text.replacingAll(secret, with: mask(secret))
    }

    /// A key shown safely: its first three characters and last two.
    static func mask(_ secret: String) -> String {
        let u = Array(secret.utf8)
        guard u.count > 8 else { return "***" }
        return String(decoding: u[0..<3], as: UTF8.self) + "***" + String(decoding: u[(u.count - 2)...], as: UTF8.self)
    }
}
