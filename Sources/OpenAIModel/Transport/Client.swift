import CCurl
import Glibc

/// Sends requests to the API for one handle: connection slots, headers,
/// retries with backoff, error classification and logging.
final class HTTPClient: @unchecked Sendable {
    let config: Config
    let share: CurlShare
    let pool = SlotPool()
    let cancelSource = CancelSource()

    /// The header lines every request of this handle starts with (key,
    /// organization, project), NUL-terminated, made once.
    private let fixedHeaders: [[CChar]]
    /// No proxy from the environment: the base URL is on this machine and no
    /// proxy was given. Worked out once (BaseURL.isLoopback compares strings:
    /// 7,500 instructions, 5% of a chat request, when it ran per request).
    private let bypassEnvironmentProxy: Bool

    init(config: Config) throws(OMError) {
        self.config = config
        share = try CurlShare()
        var fixed: [String] = []
        if let key = config.apiKey { fixed.append("Authorization: Bearer \(key)") }
        if let org = config.organization { fixed.append("OpenAI-Organization: \(org)") }
        if let p = config.project { fixed.append("OpenAI-Project: \(p)") }
        fixedHeaders = fixed.map { Array($0.utf8CString) }
        bypassEnvironmentProxy = config.proxy == nil && config.base.isLoopback
    }

    /// The longest request URL sent.
    static let maxURLBytes = 64 * 1024

    /// Total tries for a call: `attempts` if positive, else max_retries + 1.
    func tries(_ attempts: Int) -> Int { attempts > 0 ? attempts : config.maxRetries + 1 }

    /// Sends a request, retrying by the policy up to `attempts` tries in all.
    /// With a `sink`, a 2xx event-stream body is delivered to it as it
    /// arrives; `mayRetry` then says whether a failed try may still be
    /// repeated (not once text reached the host), and `beforeTry` runs before
    /// every try, so the sink's consumer starts each one afresh (bytes of an
    /// event cut short by a failed try must not run into the next try's).
    func send(_ request: HTTPRequest, attempts: Int, call: Call, sink: StreamSink? = nil,
              beforeTry: (() -> Void)? = nil,
              mayRetry: () -> Bool = { true }) throws(OMError) -> HTTPResponse {
        let url = makeURL(request)
        // An id or cursor of megabytes would make a URL no server takes (and
        // libcurl refuses URLs over 8 MB): refused here, without echoing it.
        guard url.utf8.count <= HTTPClient.maxURLBytes else {
            throw .invalidArgument("the request URL for \(request.method) would be \(url.utf8.count) bytes long "
                                   + "(at most \(HTTPClient.maxURLBytes)): an id or cursor argument is too long")
        }
        let slot = try pool.acquire()
        defer { pool.release(slot) }
        let (headerList, owned) = headers(for: request, on: slot)
        defer { if owned { curl_slist_free_all(headerList) } }
        let settings = TransferSettings(
            connectTimeoutMs: config.connectTimeoutMs, timeoutMs: config.timeoutMs,
            idleTimeoutMs: config.idleTimeout(stream: request.stream),
            proxy: config.proxy, caFile: config.caFile,
            // A loopback server is reached directly: a proxy from the
            // environment (http_proxy) would otherwise receive the key in
            // clear text over plain HTTP. An explicit proxy option is obeyed.
            bypassEnvironmentProxy: bypassEnvironmentProxy)
        var jsonBytes: [UInt8] = []
        if case .json(let b) = request.body { jsonBytes = b }
        return try jsonBytes.withUnsafeBytes { body in
            Result { () throws(OMError) -> HTTPResponse in
                try loop(request, slot: slot, url: url, headerList: headerList, body: body,
                         settings: settings, attempts: max(attempts, 1), call: call, sink: sink, beforeTry: beforeTry,
                         mayRetry: mayRetry)
            }
        }.get()
    }

    private func loop(_ request: HTTPRequest, slot: Slot, url: String, headerList: UnsafeMutablePointer<curl_slist>?,
                      body: UnsafeRawBufferPointer, settings: TransferSettings, attempts: Int, call: Call,
                      sink: StreamSink?, beforeTry: (() -> Void)?, mayRetry: () -> Bool) throws(OMError) -> HTTPResponse {
        var attempt = 1
        while true {
            try call.checkCancelled()
            if case .stream(let s, _) = request.body { try s.rewind() }
            beforeTry?()
            let t = Transfer()
            t.sink = sink
            let started = Sys.nanos()
            call.log.debug("\(request.label) try \(attempt)/\(attempts) -> \(url)")
            let rc = runTransfer(slot: slot, share: share, url: url, request: request, headerList: headerList,
                                 jsonBody: body, settings: settings, transfer: t, cancel: call.cancel)
            let ms = Double((Sys.nanos() &- started) / 1000) / 1000
            if t.status > 0 { call.recordResponse(status: t.status, requestID: t.headers["x-request-id"]) }

            let failure: OMError
            var delay: Double
            if rc == CURLE_OK && t.abort == nil {
                // Formatted only when a line is logged.
                var rid: String { t.headers["x-request-id"].map { " (request id \($0))" } ?? "" }
                if (200..<300).contains(t.status) {
                    call.log.info("\(request.label) -> \(t.status) in \(ms) ms\(rid)")
                    // A streamed body went to the sink; its consumer records
                    // what stands for it.
                    if !t.sinkActive { call.state.response = t.body }
                    return HTTPResponse(status: t.status, headers: t.headers, body: t.body)
                }
                let info = APIErrorParser.parse(status: t.status, headers: t.headers, body: t.body, secret: config.apiKey)
                failure = .api(info)
                call.log.info("\(request.label) -> \(t.status) in \(ms) ms\(rid): \(info.message)")
                let retryable = RetryPolicy.shouldRetry(status: t.status, headers: t.headers,
                                                        errorType: info.type, errorCode: info.code)
                guard retryable, attempt < attempts, mayRetry() else { throw failure }
                delay = RetryPolicy.delay(headers: t.headers, retriesSoFar: attempt - 1, now: Sys.epochSeconds(),
                                          random: Double(Sys.random64() >> 11) / Double(1 << 53))
            } else {
                failure = t.abort ?? HTTPClient.classify(rc, detail: slot.errorText, request: request, base: config.base)
                call.log.info("\(request.label) failed after \(ms) ms: \(failure.message)")
                let retryable: Bool
                switch failure {
                // A certificate that fails verification fails the same way
                // next time: not retried.
                case .network: retryable = !HTTPClient.isCertificateFailure(rc)
                case .timeout: retryable = t.abort == nil  // libcurl's timeouts; an idle stall is not retried
                default: retryable = false
                }
                guard retryable, attempt < attempts, mayRetry() else { throw failure }
                delay = RetryPolicy.backoff(retriesSoFar: attempt - 1,
                                            random: Double(Sys.random64() >> 11) / Double(1 << 53))
            }
            call.log.warn("retrying \(request.label) in \(Int(delay * 1000)) ms (try \(attempt + 1) of \(attempts)) after: \(failure.message)")
            try sleep(seconds: delay, slot: slot, call: call)
            attempt += 1
        }
    }

    /// Waits, waking at once on om_cancel.
    func sleep(seconds: Double, slot: Slot, call: Call) throws(OMError) {
        let end = Sys.nanos() &+ UInt64(max(seconds, 0) * 1e9)
        while true {
            try call.checkCancelled()
            let now = Sys.nanos()
            if now >= end { return }
            slot.poll(ms: Int((end - now) / 1_000_000) + 1)
        }
    }

    /// Waits on a slot of its own (for pollers between requests).
    func sleep(seconds: Double, call: Call) throws(OMError) {
        let slot = try pool.acquire()
        defer { pool.release(slot) }
        try sleep(seconds: seconds, slot: slot, call: call)
    }

    func makeURL(_ r: HTTPRequest) -> String {
        var u = config.base.string + r.path
        if !r.query.isEmpty {
            u += "?" + r.query.map { "\(HTTPClient.percentEncode($0.0))=\(HTTPClient.percentEncode($0.1))" }
                .joined(separator: "&")
        }
        return u
    }

    /// The header list for a request: the slot's kept list when the request
    /// is of the same plain kind as its last one (with a new idempotency
    /// key), else a new list. `owned`: the caller frees it.
    private func headers(for r: HTTPRequest, on slot: Slot) -> (UnsafeMutablePointer<curl_slist>?, owned: Bool) {
        var kind = (r.stream ? 1 : 0) | (r.method == "POST" ? 2 : 0)
        switch r.body {
        case .none: break
        case .json: kind |= 4
        default: return (makeHeaders(r), true)
        }
        guard r.headers.isEmpty, r.method == "POST" || r.method == "GET" else { return (makeHeaders(r), true) }
        if let c = slot.headerCache, c.kind == kind {
            if let k = c.keyDigits { Sys.uniqueKey(into: k) }
            return (c.list, false)
        }
        guard let list = makeHeaders(r) else { return (nil, true) }
        var digits: UnsafeMutablePointer<UInt8>? = nil
        let prefix = HTTPClient.keyPrefix
        var node: UnsafeMutablePointer<curl_slist>? = list
        while let n = node {
            if let d = n.pointee.data, strncmp(d, prefix, strlen(prefix)) == 0, strlen(d) == strlen(prefix) + 32 {
                digits = UnsafeMutableRawPointer(d + strlen(prefix)).assumingMemoryBound(to: UInt8.self)
            }
            node = n.pointee.next
        }
        if let old = slot.headerCache { curl_slist_free_all(old.list) }
        slot.headerCache = (kind, list, digits)
        return (list, false)
    }

    static let keyPrefix = "Idempotency-Key: om-"

    /// The request's header list, in this order: the handle's fixed lines,
    /// Accept, Content-Type, an idempotency key for POST, an empty Expect
    /// (no 100-continue round trip), then the request's own lines.
    private func makeHeaders(_ r: HTTPRequest) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        func add(_ line: UnsafePointer<CChar>) { list = curl_slist_append(list, line) ?? list }
        for line in fixedHeaders { line.withUnsafeBufferPointer { add($0.baseAddress!) } }
        add(r.stream ? "Accept: text/event-stream" : "Accept: application/json")
        switch r.body {
        case .json: add("Content-Type: application/json")
        case .stream(_, let ctype): add("Content-Type: \(ctype)")
        default: break
        }
        if r.method == "POST" {
            // The same key on every retry lets the server drop duplicates.
            add(HTTPClient.keyPrefix + Sys.uniqueKey())
        }
        add("Expect:")
        for line in r.headers { add(line) }
        return list
    }

    static func percentEncode(_ s: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case 48...57, 65...90, 97...122, 45, 46, 95, 126: out.append(b)
            default:
                out.append(37)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether libcurl refused the server's certificate (or could not use
    /// the CA bundle): a verdict that a retry cannot change.
    static func isCertificateFailure(_ rc: CURLcode) -> Bool {
        switch rc {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            return true
        default:
            return false
        }
    }

    /// Turns a libcurl failure into the library's error.
    static func classify(_ rc: CURLcode, detail: String, request: HTTPRequest, base: BaseURL) -> OMError {
        let what = String(cString: curl_easy_strerror(rc))
        let more = detail.isEmpty ? what : "\(what): \(detail)"
        let target = "\(request.label) on \(base.host)\(base.port.map { ":\($0)" } ?? "")"
        switch rc {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout("\(target) timed out (\(more))")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return .network("cannot connect for \(target) (\(more))")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_INITFAILED:
            return .network("TLS failure for \(target) (\(more))")
        case CURLE_PARTIAL_FILE:
            return .network("the response to \(target) was cut short (\(more))")
        case CURLE_GOT_NOTHING:
            return .network("the server closed the connection without answering \(target) (\(more))")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .network("connection lost during \(target) (\(more))")
        case CURLE_OUT_OF_MEMORY:
            return .outOfMemory
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .invalidArgument("bad URL for \(target) (\(more))")
        case CURLE_READ_ERROR:
            return .io("reading the request body for \(target) failed (\(more))")
        default:
            return .network("\(target) failed (\(more))")
        }
    }
}
