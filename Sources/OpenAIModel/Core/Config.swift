import COpenAIModel
import Glibc

/// A parsed http(s) URL: just what the library needs to know about the base.
struct BaseURL: Sendable, Equatable {
    var scheme: String   // "http" or "https"
    var host: String     // without brackets for IPv6
    var port: Int?
    var path: String     // no trailing slash; "/v1" when the URL had none
    /// The URL as requests start from: scheme://host[:port]path
    var string: String

    static func parse(_ text: String) throws(OMError) -> BaseURL {
        let t = text.trimmedWhitespace()
        guard let found = Array(t.utf8).firstRange(of: Array("://".utf8)) else {
            throw .invalidArgument("base URL '\(t)' has no scheme (expected http:// or https://)")
        }
        let u = t.utf8
        let sep = u.index(u.startIndex, offsetBy: found.lowerBound)..<u.index(u.startIndex, offsetBy: found.upperBound)
        let scheme = String(t[t.startIndex..<sep.lowerBound]).lowercasedASCII()
        guard scheme == "http" || scheme == "https" else {
            throw .invalidArgument("base URL '\(t)': scheme '\(scheme)' is not supported (use http or https)")
        }
        let rest = t[sep.upperBound...]
        guard !rest.contains("?"), !rest.contains("#") else {
            throw .invalidArgument("base URL '\(t)' must not contain a query or fragment")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[rest.startIndex..<slash]
        var path = String(rest[slash...])
        guard !authority.isEmpty, !authority.contains("@") else {
            throw .invalidArgument("base URL '\(t)' has no host (or carries credentials, which are not accepted)")
        }
        var host: String
        var port: Int? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw .invalidArgument("base URL '\(t)': unterminated IPv6 address")
            }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ; if port == nil { throw .invalidArgument("base URL '\(t)': bad port") } }
            else if !after.isEmpty { throw .invalidArgument("base URL '\(t)': bad host") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[authority.startIndex..<colon])
            port = Int(authority[authority.index(after: colon)...])
            if port == nil { throw .invalidArgument("base URL '\(t)': bad port") }
        } else {
            host = String(authority)
        }
        if let p = port, p < 1 || p > 65535 { throw .invalidArgument("base URL '\(t)': port out of range") }
        host = host.lowercasedASCII()
        guard !host.isEmpty else { throw .invalidArgument("base URL '\(t)' has no host") }
        while path.hasSuffix("/") { path.removeLast() }
        if path.isEmpty { path = "/v1" }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let portPart = port.map { ":\($0)" } ?? ""
        return BaseURL(scheme: scheme, host: host, port: port, path: path,
                       string: "\(scheme)://\(hostPart)\(portPart)\(path)")
    }

    /// Whether the host is this machine (keys may go there over plain HTTP):
    /// "localhost", an IPv4 literal in 127.0.0.0/8, or ::1. A name that only
    /// looks like one ("127.0.0.1.example.com", "api.localhost") is not: DNS
    /// decides where it goes.
    var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && p.utf8.count <= 3 && p.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } && (Int(p) ?? 256) <= 255
        }
    }
}

/// A handle's configuration: options merged with the environment and the
/// defaults, checked once at creation and immutable afterwards.
struct Config: @unchecked Sendable {
    var apiKey: String?
    var base: BaseURL
    var organization: String?
    var project: String?
    var proxy: String?
    var caFile: String?
    var allowInsecureHTTP = false

    /// Milliseconds; 0 = none.
    var connectTimeoutMs = 5_000
    var timeoutMs = 600_000
    /// nil = the default rule (60 s for streams, none otherwise).
    var idleTimeoutMs: Int? = nil
    var maxRetries = 2

    var model = "gpt-4o-mini"
    var systemInstruction: String?
    var assistantID: String?
    var assistantsFile: String
    var maxOutputTokens = 8000
    var imageMaxOutputTokens = 800
    var imageDetail = "auto"
    var tokenLimitParam = "max_completion_tokens"
    var sendHistory = false

    var dataDir: String
    var dialogueFile: String?
    var noDialogueFile = false
    var fineTuneSuffix: String?

    var logger: Logger

    static let defaultBaseURL = "https://api.openai.com/v1"

    /// Builds the configuration from the host's options (NULL = defaults).
    static func make(_ options: UnsafePointer<om_options>?) throws(OMError) -> Config {
        var o = om_options()
        if let options {
            let v = options.pointee.version
            if v == 0 {
                throw .invalidArgument("options.version is 0: initialize the struct with OM_OPTIONS_INIT")
            }
            if v > UInt32(OM_OPTIONS_VERSION) {
                throw .invalidArgument("options.version \(v) is newer than this library understands (\(OM_OPTIONS_VERSION)); the header and library do not match")
            }
            o = options.pointee
        } else {
            o.version = UInt32(OM_OPTIONS_VERSION)
        }

        func opt(_ p: UnsafePointer<CChar>?, _ name: String) throws(OMError) -> String? {
            guard let p else { return nil }
            let s = try Sys.utf8(p, what: "options.\(name)")
            return s.isEmpty ? nil : s
        }

        func nonEmpty(_ p: UnsafePointer<CChar>?, _ name: String) throws(OMError) -> String? {
            if let p, p.pointee == 0 { throw .invalidArgument("options.\(name) is empty (leave it NULL for the default)") }
            return try opt(p, name)
        }

        let key = try nonEmpty(o.api_key, "api_key") ?? Sys.env("OPENAI_API_KEY")
        if let key, key.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) {
            throw .invalidArgument("the API key contains white space or control characters")
        }
        let baseText = try nonEmpty(o.base_url, "base_url") ?? Sys.env("OPENAI_BASE_URL") ?? defaultBaseURL
        let base = try BaseURL.parse(baseText)
        let insecure = o.allow_insecure_http != 0
        if base.scheme == "http", !base.isLoopback, key != nil, !insecure {
            throw .invalidArgument("refusing to send the API key over plain HTTP to \(base.host): use https, or set allow_insecure_http")
        }

        let level = Logger.resolveLevel(o.log_level)
        let logger = Logger(level: level, callback: o.log_cb, userdata: o.log_userdata, secret: key)

        let dataDir = try opt(o.data_dir, "data_dir") ?? defaultDataDir()
        var c = Config(apiKey: key, base: base, assistantsFile: "", dataDir: dataDir, logger: logger)
        c.organization = try opt(o.organization, "organization") ?? Sys.env("OPENAI_ORG_ID")
        c.project = try opt(o.project, "project") ?? Sys.env("OPENAI_PROJECT_ID")
        c.proxy = try opt(o.proxy, "proxy")
        c.caFile = try opt(o.ca_file, "ca_file")
        c.allowInsecureHTTP = insecure

        func ms(_ v: Int, _ def: Int, _ name: String) -> Int {
            if v == 0 { return def }
            if v < 0 { return 0 }
            return v
        }
        c.connectTimeoutMs = ms(o.connect_timeout_ms, 5_000, "connect_timeout_ms")
        c.timeoutMs = ms(o.timeout_ms, 600_000, "timeout_ms")
        if o.idle_timeout_ms > 0 { c.idleTimeoutMs = o.idle_timeout_ms }
        else if o.idle_timeout_ms < 0 { c.idleTimeoutMs = 0 }
        if o.max_retries > 0 {
            guard o.max_retries <= 100 else { throw .invalidArgument("options.max_retries \(o.max_retries) is over 100") }
            c.maxRetries = Int(o.max_retries)
        } else if o.max_retries < 0 { c.maxRetries = 0 }

        c.model = try nonEmpty(o.model, "model") ?? "gpt-4o-mini"
        c.systemInstruction = try opt(o.system_instruction, "system_instruction")
        c.assistantID = try opt(o.assistant_id, "assistant_id")
        c.assistantsFile = try opt(o.assistants_file, "assistants_file") ?? (dataDir + "/assistants.json")
        if o.max_output_tokens < 0 { throw .invalidArgument("options.max_output_tokens is negative") }
        if o.max_output_tokens > 0 { c.maxOutputTokens = Int(o.max_output_tokens) }
        if o.image_max_output_tokens < 0 { throw .invalidArgument("options.image_max_output_tokens is negative") }
        if o.image_max_output_tokens > 0 { c.imageMaxOutputTokens = Int(o.image_max_output_tokens) }
        if let d = try opt(o.image_detail, "image_detail") {
            guard d == "auto" || d == "low" || d == "high" else {
                throw .invalidArgument("options.image_detail '\(d)' is not one of auto, low, high")
            }
            c.imageDetail = d
        }
        if let p = try opt(o.token_limit_param, "token_limit_param") {
            guard p == "max_completion_tokens" || p == "max_tokens" else {
                throw .invalidArgument("options.token_limit_param '\(p)' is not max_completion_tokens or max_tokens")
            }
            c.tokenLimitParam = p
        }
        c.sendHistory = o.send_history != 0
        c.dialogueFile = try opt(o.dialogue_file, "dialogue_file")
        c.noDialogueFile = o.no_dialogue_file != 0
        c.fineTuneSuffix = try opt(o.fine_tune_suffix, "fine_tune_suffix")
        try checkFineTuneSuffix(c.fineTuneSuffix, what: "options.fine_tune_suffix")
        return c
    }

    /// The API takes a fine-tuned model's suffix of 1 to 64 characters: a
    /// longer one is refused here, before a training file is converted and
    /// uploaded for a job the API would then refuse.
    static func checkFineTuneSuffix(_ suffix: String?, what: String) throws(OMError) {
        guard let suffix else { return }
        let n = suffix.unicodeScalars.count
        if n > 64 {
            throw .invalidArgument("\(what) has \(n) characters; the API takes at most 64")
        }
    }

    /// $OPENAIMODEL_DATA_DIR, else $XDG_DATA_HOME/openaimodel, else
    /// ~/.local/share/openaimodel (or /tmp/openaimodel-<uid> without a home).
    static func defaultDataDir() -> String {
        if let d = Sys.env("OPENAIMODEL_DATA_DIR") { return d }
        if let x = Sys.env("XDG_DATA_HOME") { return x + "/openaimodel" }
        if let h = Sys.env("HOME") { return h + "/.local/share/openaimodel" }
        return "/tmp/openaimodel-\(getuid())"
    }

    /// The idle timeout for a transfer (0 = none).
    func idleTimeout(stream: Bool) -> Int {
        if let v = idleTimeoutMs { return v }
        return stream ? 60_000 : 0
    }
}
