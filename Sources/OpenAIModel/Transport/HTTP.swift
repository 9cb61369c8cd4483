import CCurl
import Glibc

/// A request body that is produced while it is sent (an image encoded on
/// the fly), so that memory does not grow with its size. It must be able to
/// start again from the beginning: libcurl rewinds it on retries.
protocol BodyStream: AnyObject {
    /// Exact number of bytes the stream produces.
    var size: Int64 { get }
    /// Fills `into` with the next bytes; 0 at the end.
    func read(into: UnsafeMutableRawBufferPointer) throws(OMError) -> Int
    /// Back to the first byte.
    func rewind() throws(OMError)
}

/// A multipart/form-data body: text fields and one file streamed from disk
/// by libcurl.
struct MultipartForm {
    var fields: [(name: String, value: String)]
    var fileField: String
    var filePath: String
    var fileName: String
    var fileType: String
}

enum RequestBody {
    case none
    case json([UInt8])
    case stream(BodyStream, contentType: String)
    case multipart(MultipartForm)
}

struct HTTPRequest {
    var method: String
    /// Relative to the base URL, starting with "/".
    var path: String
    var query: [(String, String)] = []
    var body: RequestBody = .none
    var headers: [String] = []
    /// The response is expected as a server-sent event stream.
    var stream = false
    /// Progress of the request body (upload): (sent, total) -> go on?
    var uploadProgress: ((Int64, Int64) -> Bool)? = nil

    init(method: String, path: String, query: [(String, String)] = [], body: RequestBody = .none,
         headers: [String] = [], stream: Bool = false) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
        self.stream = stream
    }

    /// "POST /chat/completions" for messages.
    var label: String { "\(method) \(path)" }
}

struct HTTPResponse {
    var status: Int
    var headers: HeaderList
    var body: [UInt8]
    var requestID: String? { headers["x-request-id"] }

    /// The body parsed as JSON.
    func json(what: String) throws(OMError) -> JSON {
        try JSON.parse(body, what: what)
    }
}

/// Receives the body of a successful streamed response as it arrives.
typealias StreamSink = (UnsafeRawBufferPointer) throws(OMError) -> Void

/// State of one transfer, reached from libcurl's C callbacks through their
/// userdata pointer.
final class Transfer {
    var status = 0
    var headers = HeaderList()
    var body: [UInt8] = []
    /// The body of a 2xx event-stream response goes here instead of `body`.
    var sink: StreamSink?
    var sinkDecided = false
    var sinkActive = false
    /// Set when a callback stopped the transfer; reported instead of the
    /// libcurl code.
    var abort: OMError?
    /// When a byte last came or went; kept only when an idle timeout
    /// watches the transfer (reading the clock for every header line and
    /// chunk of every request was a measurable share of a chat request).
    var lastActivity: UInt64 = 0
    var tracksActivity = false
    var upload: BodyStream?
    var uploadProgress: ((Int64, Int64) -> Bool)?
    var lastUploaded: Int64 = -1
    var lastDownloaded: Int64 = -1
    /// Bodies larger than this are refused (a misbehaving server cannot
    /// exhaust the host's memory).
    static let maxBody = 512 * 1024 * 1024

    @inline(__always)
    func touch() {
        if tracksActivity { lastActivity = Sys.nanos() }
    }

    func receive(_ data: UnsafeRawBufferPointer) -> Bool {
        touch()
        if !sinkDecided {
            sinkDecided = true
            let ctype = headers["content-type"]?.lowercasedASCII() ?? ""
            sinkActive = sink != nil && (200..<300).contains(status) && ctype.hasPrefix("text/event-stream")
        }
        if sinkActive, let sink {
            do throws(OMError) {
                try sink(data)
            } catch {
                abort = error
                return false
            }
            return true
        }
        if body.count + data.count > Transfer.maxBody {
            abort = .parse("the response body is larger than \(Transfer.maxBody / 1_048_576) MB")
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    /// One header line from libcurl. Parsed on the bytes (a chat request
    /// gets about ten of these): the status line starts the list again;
    /// "Name: value" is kept with the name lower-cased (ASCII) and the value
    /// trimmed of white space.
    func header(_ line: UnsafeRawBufferPointer) {
        touch()
        var end = line.count
        while end > 0, line[end - 1] == 10 || line[end - 1] == 13 { end -= 1 }
        guard end > 0 else { return }
        if end >= 5, line[0] == 72, line[1] == 84, line[2] == 84, line[3] == 80, line[4] == 47 {  // "HTTP/"
            // A new response (after 100 Continue or on a retry): start over.
            headers = HeaderList()
            headers.items.reserveCapacity(16)  // one allocation for a response's headers
            status = Transfer.statusCode(UnsafeRawBufferPointer(rebasing: line[0..<end]))
            return
        }
        guard let colon = line[0..<end].firstIndex(of: 58) else { return }
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon {
                let b = line[i]
                out[i] = (b >= 65 && b <= 90) ? b + 32 : b
            }
            return colon
        }
        var lo = colon + 1, hi = end
        while lo < hi, Transfer.isASCIISpace(line[lo]) { lo += 1 }
        while hi > lo, Transfer.isASCIISpace(line[hi - 1]) { hi -= 1 }
        var value = String(decoding: UnsafeRawBufferPointer(rebasing: line[lo..<hi]), as: UTF8.self)
        if lo < hi, line[lo] >= 0x80 || line[hi - 1] >= 0x80 {
            value = value.trimmedWhitespace()  // other Unicode white space at an end
        }
        headers.items.append((name, value))
    }

    static func isASCIISpace(_ b: UInt8) -> Bool { b == 32 || (b >= 9 && b <= 13) }

    /// The status code of a status line: its second space-separated word as
    /// a number, else 0.
    static func statusCode(_ line: UnsafeRawBufferPointer) -> Int {
        var i = 0
        let n = line.count
        while i < n, line[i] == 32 { i += 1 }
        while i < n, line[i] != 32 { i += 1 }  // "HTTP/1.1"
        while i < n, line[i] == 32 { i += 1 }
        let start = i
        while i < n, line[i] != 32 { i += 1 }
        guard i > start else { return 0 }
        return Int(String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<i]), as: UTF8.self)) ?? 0
    }
}

// libcurl callbacks. They only forward to the Transfer named by userdata.

private let writeCallback: curl_write_callback = { ptr, size, n, ud in
    guard let ud else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(ud).takeUnretainedValue()
    let len = size &* n
    return t.receive(UnsafeRawBufferPointer(start: ptr, count: len)) ? len : 0
}

private let headerCallback: curl_write_callback = { ptr, size, n, ud in
    guard let ud else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(ud).takeUnretainedValue()
    let len = size &* n
    t.header(UnsafeRawBufferPointer(start: ptr, count: len))
    return len
}

private let readCallback: curl_read_callback = { ptr, size, n, ud in
    guard let ud, let ptr else { return Int(CURL_READFUNC_ABORT) }
    let t = Unmanaged<Transfer>.fromOpaque(ud).takeUnretainedValue()
    guard let up = t.upload else { return 0 }
    t.touch()
    do throws(OMError) {
        return try up.read(into: UnsafeMutableRawBufferPointer(start: ptr, count: size &* n))
    } catch {
        t.abort = error
        return Int(CURL_READFUNC_ABORT)
    }
}

private let seekCallback: curl_seek_callback = { ud, offset, origin in
    guard let ud else { return Int32(CURL_SEEKFUNC_FAIL) }
    let t = Unmanaged<Transfer>.fromOpaque(ud).takeUnretainedValue()
    guard let up = t.upload, offset == 0, origin == SEEK_SET else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    do throws(OMError) {
        try up.rewind()
        return Int32(CURL_SEEKFUNC_OK)
    } catch {
        t.abort = error
        return Int32(CURL_SEEKFUNC_FAIL)
    }
}

private let xferCallback: curl_xferinfo_callback = { ud, _, dlnow, ultotal, ulnow in
    guard let ud else { return 0 }
    let t = Unmanaged<Transfer>.fromOpaque(ud).takeUnretainedValue()
    if Int64(ulnow) != t.lastUploaded || Int64(dlnow) != t.lastDownloaded {
        t.lastActivity = Sys.nanos()
        t.lastUploaded = Int64(ulnow)
        t.lastDownloaded = Int64(dlnow)
        if let p = t.uploadProgress, ulnow > 0, !p(Int64(ulnow), Int64(ultotal)) {
            t.abort = .cancelled("stopped by the progress callback")
            return 1
        }
    }
    return 0
}

/// Settings a transfer needs from the handle.
struct TransferSettings: Equatable {
    var connectTimeoutMs: Int
    var timeoutMs: Int
    var idleTimeoutMs: Int
    var proxy: String?
    var caFile: String?
    /// No proxy from the environment (the base URL is on this machine).
    var bypassEnvironmentProxy = false
}

/// Runs one HTTP exchange on a slot: sets the request up, drives it with
/// curl_multi_poll (so om_cancel can wake it) and enforces the idle timeout.
/// Returns the libcurl result; the transfer holds status, headers and body.
func runTransfer(slot: Slot, share: CurlShare, url: String, request: HTTPRequest,
                 headerList: UnsafeMutablePointer<curl_slist>?, jsonBody: UnsafeRawBufferPointer?,
                 settings: TransferSettings, transfer: Transfer, cancel: CancelToken) -> CURLcode {
    let e = slot.easy
    let ud = Unmanaged.passUnretained(transfer).toOpaque()
    slot.errorBuffer[0] = 0
    // libcurl keeps an easy handle's options between transfers: a plain
    // request of the same kind and settings as the slot's last one sets only
    // what differs (URL, headers, body, the transfer's pointers) instead of
    // resetting the handle and setting some twenty options again.
    let plain = plainKind(request, settings)
    let reuse = plain != nil && slot.plainSetup.map { $0.kind == plain && $0.settings == settings } == true
    slot.plainSetup = nil
    if reuse {
        if omc_setopt_str(e, CURLOPT_URL, url) != CURLE_OK {
            transfer.abort = .invalidArgument("libcurl refused the request URL (\(url.utf8.count) bytes)")
            return CURLE_URL_MALFORMAT
        }
        _ = omc_setopt_slist(e, CURLOPT_HTTPHEADER, headerList)
        _ = omc_setopt_ptr(e, CURLOPT_WRITEDATA, ud)
        _ = omc_setopt_ptr(e, CURLOPT_HEADERDATA, ud)
        if case .json = request.body {
            _ = omc_setopt_off(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(jsonBody?.count ?? 0))
            _ = omc_setopt_ptr(e, CURLOPT_POSTFIELDS, jsonBody?.baseAddress)
        }
        return drive(slot: slot, request: request, settings: settings, transfer: transfer, cancel: cancel,
                     plain: plain)
    }
    curl_easy_reset(e)
    _ = omc_setopt_ptr(e, CURLOPT_ERRORBUFFER, slot.errorBuffer)
    slot.share = share
    _ = omc_setopt_share(e, share.handle)
    _ = omc_setopt_long(e, CURLOPT_NOSIGNAL, 1)
    if omc_setopt_str(e, CURLOPT_URL, url) != CURLE_OK {
        transfer.abort = .invalidArgument("libcurl refused the request URL (\(url.utf8.count) bytes)")
        return CURLE_URL_MALFORMAT
    }
    _ = omc_setopt_str(e, CURLOPT_PROTOCOLS_STR, "http,https")
    _ = omc_setopt_long(e, CURLOPT_FOLLOWLOCATION, 0)
    _ = omc_setopt_long(e, CURLOPT_TCP_KEEPALIVE, 1)
    _ = omc_setopt_long(e, CURLOPT_TCP_NODELAY, 1)
    _ = omc_setopt_str(e, CURLOPT_ACCEPT_ENCODING, "")
    _ = omc_setopt_str(e, CURLOPT_USERAGENT, CurlGlobal.userAgent)
    _ = omc_setopt_long(e, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMs)
    _ = omc_setopt_long(e, CURLOPT_TIMEOUT_MS, settings.timeoutMs)
    _ = omc_setopt_long(e, CURLOPT_SSL_VERIFYPEER, 1)
    _ = omc_setopt_long(e, CURLOPT_SSL_VERIFYHOST, 2)
    if let p = settings.proxy { _ = omc_setopt_str(e, CURLOPT_PROXY, p) }
    if settings.bypassEnvironmentProxy { _ = omc_setopt_str(e, CURLOPT_NOPROXY, "*") }
    if let c = settings.caFile { _ = omc_setopt_str(e, CURLOPT_CAINFO, c) }
    _ = omc_setopt_slist(e, CURLOPT_HTTPHEADER, headerList)

    _ = omc_setopt_write(e, CURLOPT_WRITEFUNCTION, writeCallback)
    _ = omc_setopt_ptr(e, CURLOPT_WRITEDATA, ud)
    _ = omc_setopt_write(e, CURLOPT_HEADERFUNCTION, headerCallback)
    _ = omc_setopt_ptr(e, CURLOPT_HEADERDATA, ud)

    var mime: OpaquePointer? = nil
    defer { if let mime { curl_mime_free(mime) } }
    var wantProgress = settings.idleTimeoutMs > 0

    switch request.body {
    case .none:
        if request.method == "POST" {
            _ = omc_setopt_long(e, CURLOPT_POST, 1)
            _ = omc_setopt_off(e, CURLOPT_POSTFIELDSIZE_LARGE, 0)
            _ = omc_setopt_str(e, CURLOPT_POSTFIELDS, "")
        } else if request.method != "GET" {
            _ = omc_setopt_str(e, CURLOPT_CUSTOMREQUEST, request.method)
        }
    case .json:
        _ = omc_setopt_long(e, CURLOPT_POST, 1)
        _ = omc_setopt_off(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(jsonBody?.count ?? 0))
        _ = omc_setopt_ptr(e, CURLOPT_POSTFIELDS, jsonBody?.baseAddress)
        if request.method != "POST" { _ = omc_setopt_str(e, CURLOPT_CUSTOMREQUEST, request.method) }
    case .stream(let s, _):
        transfer.upload = s
        _ = omc_setopt_long(e, CURLOPT_POST, 1)
        _ = omc_setopt_off(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(s.size))
        _ = omc_setopt_read(e, readCallback)
        _ = omc_setopt_ptr(e, CURLOPT_READDATA, ud)
        _ = omc_setopt_seek(e, seekCallback)
        _ = omc_setopt_ptr(e, CURLOPT_SEEKDATA, ud)
        _ = omc_setopt_long(e, CURLOPT_UPLOAD_BUFFERSIZE, 256 * 1024)
    case .multipart(let form):
        guard let m = curl_mime_init(e) else { transfer.abort = .outOfMemory; return CURLE_OUT_OF_MEMORY }
        mime = m
        for f in form.fields {
            guard let part = curl_mime_addpart(m) else { transfer.abort = .outOfMemory; return CURLE_OUT_OF_MEMORY }
            _ = curl_mime_name(part, f.name)
            _ = curl_mime_data(part, f.value, f.value.utf8.count)
        }
        guard let part = curl_mime_addpart(m) else { transfer.abort = .outOfMemory; return CURLE_OUT_OF_MEMORY }
        _ = curl_mime_name(part, form.fileField)
        let rc = curl_mime_filedata(part, form.filePath)
        if rc != CURLE_OK {
            transfer.abort = .io("cannot read '\(form.filePath)' for upload: \(String(cString: curl_easy_strerror(rc)))")
            return rc
        }
        _ = curl_mime_filename(part, form.fileName)
        _ = curl_mime_type(part, form.fileType)
        _ = omc_setopt_mime(e, m)
        _ = omc_setopt_long(e, CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024)
    }
    if request.uploadProgress != nil {
        transfer.uploadProgress = request.uploadProgress
        wantProgress = true
    }
    if wantProgress {
        _ = omc_setopt_long(e, CURLOPT_NOPROGRESS, 0)
        _ = omc_setopt_xferinfo(e, xferCallback)
        _ = omc_setopt_ptr(e, CURLOPT_XFERINFODATA, ud)
    }

    return drive(slot: slot, request: request, settings: settings, transfer: transfer, cancel: cancel,
                 plain: plain)
}

/// Which plain request this is (a JSON POST, a body-less GET or POST, with
/// no progress callback), or nil.
private func plainKind(_ r: HTTPRequest, _ s: TransferSettings) -> Int? {
    guard r.uploadProgress == nil, s.idleTimeoutMs <= 0 else { return nil }
    switch r.body {
    case .json: return r.method == "POST" ? 1 : nil
    case .none: return r.method == "GET" ? 2 : (r.method == "POST" ? 3 : nil)
    default: return nil
    }
}

/// Runs the transfer set up on the slot's easy handle.
private func drive(slot: Slot, request: HTTPRequest, settings: TransferSettings, transfer: Transfer,
                   cancel: CancelToken, plain: Int?) -> CURLcode {
    let e = slot.easy
    slot.plainSetup = plain.map { (kind: $0, settings: settings) }
    let mc = curl_multi_add_handle(slot.multi, e)
    guard mc == CURLM_OK else {
        transfer.abort = .network("libcurl refused the transfer: \(String(cString: curl_multi_strerror(mc)))")
        return CURLE_FAILED_INIT
    }
    defer { _ = curl_multi_remove_handle(slot.multi, e) }

    let idleNs = UInt64(max(settings.idleTimeoutMs, 0)) &* 1_000_000
    transfer.tracksActivity = idleNs > 0
    if idleNs > 0 { transfer.lastActivity = Sys.nanos() }
    var running: Int32 = 1
    while true {
        let rc = curl_multi_perform(slot.multi, &running)
        if rc != CURLM_OK {
            transfer.abort = .network("libcurl: \(String(cString: curl_multi_strerror(rc)))")
            return CURLE_FAILED_INIT
        }
        if running == 0 { break }
        if transfer.abort != nil { return CURLE_ABORTED_BY_CALLBACK }
        if cancel.isCancelled {
            transfer.abort = .cancelled("cancelled by om_cancel")
            return CURLE_ABORTED_BY_CALLBACK
        }
        var waitMs = 1000
        if idleNs > 0 {
            let idle = Sys.nanos() &- transfer.lastActivity
            if idle >= idleNs {
                transfer.abort = .timeout("no data from the server for \(settings.idleTimeoutMs) ms (idle timeout) on \(request.label)")
                return CURLE_OPERATION_TIMEDOUT
            }
            waitMs = min(waitMs, Int((idleNs - idle) / 1_000_000) + 1)
        }
        var n: Int32 = 0
        _ = curl_multi_poll(slot.multi, nil, 0, Int32(waitMs), &n)
    }
    var result = CURLE_OK
    var left: Int32 = 0
    while let msg = curl_multi_info_read(slot.multi, &left) {
        if msg.pointee.msg == CURLMSG_DONE { result = msg.pointee.data.result }
    }
    return result
}
