import COpenAIModel
import Glibc

/// The export layer's helpers: argument checks, the one mapping from
/// OMError to om_status, and out-parameters. Nothing thrown gets past here.
enum Boundary {
    typealias OutString = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    /// The status for an error: one exhaustive switch.
    static func status(_ e: OMError) -> om_status {
        switch e {
        case .invalidArgument: return OM_EINVAL
        case .outOfMemory: return OM_ENOMEM
        case .io: return OM_EIO
        case .noFile: return OM_ENOFILE
        case .data: return OM_EDATA
        case .network: return OM_ENETWORK
        case .timeout: return OM_ETIMEDOUT
        case .cancelled: return OM_ECANCELLED
        case .parse: return OM_EPARSE
        case .unsupported: return OM_EUNSUPPORTED
        case .notFound: return OM_ENOTFOUND
        case .internalError: return OM_EINTERNAL
        case .api(let info):
            switch info.httpStatus {
            case 401: return OM_EAUTH
            case 403: return OM_EPERMISSION
            case 404, 410: return OM_ENOTFOUND
            case 429: return OM_ERATELIMIT
            case 500...: return OM_ESERVER
            default: return OM_EAPI
            }
        }
    }

    /// Records a failure in the thread's state and returns its status.
    static func fail(_ e: OMError, _ call: Call, _ model: Model) -> om_status {
        let st = status(e)
        call.state.status = st
        call.state.response = nil  // a failed call has no result to show
        let secret = model.config.apiKey
        call.state.replace(&call.state.message, Secrets.scrub(e.message, secret))
        if case .api(let info) = e {
            call.state.replace(&call.state.detail, detailJSON(info, secret: secret))
        }
        call.log.debug("call failed: \(om_status_str_swift(st)): \(e.message)")
        return st
    }

    static func detailJSON(_ info: APIErrorInfo, secret: String?) -> String? {
        do throws(OMError) {
            // Every text the server sent is scrubbed: a server may echo the
            // key in any field (type, code, param), not only the message.
            func clean(_ s: String?) -> String? { s.map { Secrets.scrub($0, secret) } }
            let o = try JSON.object()
            try o.set("status", info.httpStatus)
            try o.set("type", JSON.stringOrNull(clean(info.type)))
            try o.set("code", JSON.stringOrNull(clean(info.code)))
            try o.set("param", JSON.stringOrNull(clean(info.param)))
            try o.set("message", Secrets.scrub(info.message, secret))
            try o.set("request_id", JSON.stringOrNull(clean(info.requestID)))
            try o.set("body", Secrets.scrub(info.body, secret))
            return try o.dump()
        } catch {
            return nil
        }
    }

    /// Runs a call on a handle: looks the handle up, starts the thread's
    /// error state, runs `body`, and maps any error.
    static func run(_ handle: OpaquePointer?, _ body: (Model, Call) throws(OMError) -> Void) -> om_status {
        guard let model = Handles.lookup(handle) else {
            LastError.set(handle == nil ? "the handle is NULL" : "not a live handle (already freed, or not from om_create)")
            return OM_EINVAL
        }
        let call = model.beginCall()
        do throws(OMError) {
            try body(model, call)
            return OM_OK
        } catch {
            return fail(error, call, model)
        }
    }

    /// Runs a call whose result is a string for `out`: *out is NULL unless
    /// the call succeeds.
    static func run(_ handle: OpaquePointer?, out: OutString?, what: String = "out",
                    _ body: (Model, Call) throws(OMError) -> UnsafeMutablePointer<CChar>) -> om_status {
        out?.pointee = nil
        return run(handle) { (model, call) throws(OMError) in
            guard let out else { throw .invalidArgument("\(what) is NULL") }
            out.pointee = try body(model, call)
        }
    }

    /// A string on the C heap for an out-parameter.
    static func cString(_ s: String) throws(OMError) -> UnsafeMutablePointer<CChar> {
        guard let p = Sys.mallocCString(s) else { throw .outOfMemory }
        return p
    }
}

/// The thread-local message of failures that have no handle (om_create).
enum LastError {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in free(p) }
        return k
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        _ = pthread_setspecific(key, Sys.mallocCString(message))
        if let old { free(old) }
    }

    static func get() -> UnsafePointer<CChar>? {
        guard let p = pthread_getspecific(key) else { return nil }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }
}

/// om_status_str's text, for Swift callers.
func om_status_str_swift(_ s: om_status) -> String { String(cString: statusText(s)) }

func statusText(_ s: om_status) -> UnsafePointer<CChar> {
    switch s {
    case OM_OK: return StaticStrings.c("ok")
    case OM_EINVAL: return StaticStrings.c("invalid argument")
    case OM_ENOMEM: return StaticStrings.c("out of memory")
    case OM_EIO: return StaticStrings.c("I/O error")
    case OM_ENOFILE: return StaticStrings.c("no such file or folder")
    case OM_EDATA: return StaticStrings.c("input data rejected")
    case OM_ENETWORK: return StaticStrings.c("network error")
    case OM_ETIMEDOUT: return StaticStrings.c("timed out")
    case OM_ECANCELLED: return StaticStrings.c("cancelled")
    case OM_EPARSE: return StaticStrings.c("unexpected response from the server")
    case OM_EUNSUPPORTED: return StaticStrings.c("not supported")
    case OM_EAPI: return StaticStrings.c("API error")
    case OM_EAUTH: return StaticStrings.c("authentication failed (HTTP 401)")
    case OM_EPERMISSION: return StaticStrings.c("permission denied (HTTP 403)")
    case OM_ENOTFOUND: return StaticStrings.c("not found")
    case OM_ERATELIMIT: return StaticStrings.c("rate limited (HTTP 429)")
    case OM_ESERVER: return StaticStrings.c("server error (HTTP 5xx)")
    case OM_EINTERNAL: return StaticStrings.c("internal error in libopenaimodel")
    default: return StaticStrings.c("unknown status")
    }
}
