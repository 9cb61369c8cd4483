import COpenAIModel

/// Details of an error response from the API: everything the server told us.
struct APIErrorInfo: Sendable, Equatable {
    var httpStatus: Int
    var type: String?
    var code: String?
    var param: String?
    var message: String
    var requestID: String?
    var body: String

    /// The sentence om_errmsg shows.
    var summary: String {
        var s = "HTTP \(httpStatus)"
        if let type { s += " \(type)" }
        if let code { s += " (code \(code))" }
        s += ": \(message)"
        if let param { s += " [param: \(param)]" }
        if let requestID { s += " (request id \(requestID))" }
        return s
    }
}

/// The one error type of the core. Every throwing function of the core throws
/// it (typed throws); the export layer maps it to an `om_status` in one
/// exhaustive switch.
enum OMError: Error, Sendable, Equatable {
    /// An argument or option is invalid.
    case invalidArgument(String)
    /// Memory could not be allocated.
    case outOfMemory
    /// A local file or system call failed; the message names the path.
    case io(String)
    /// A named file or folder does not exist; the message names it.
    case noFile(String)
    /// Input data was rejected (image type, CSV, validation, corrupt file).
    case data(String)
    /// The connection failed or was lost.
    case network(String)
    /// A connect, total or idle timeout.
    case timeout(String)
    /// om_cancel or a callback stopped the operation.
    case cancelled(String)
    /// The server's answer could not be understood.
    case parse(String)
    /// Not supported by the server or this build.
    case unsupported(String)
    /// The server answered with an error status.
    case api(APIErrorInfo)
    /// A named local entry does not exist (an assistant, the current job).
    case notFound(String)
    /// A defect inside the library.
    case internalError(String)

    var message: String {
        switch self {
        case .invalidArgument(let m), .io(let m), .noFile(let m), .data(let m),
             .network(let m), .timeout(let m), .cancelled(let m), .parse(let m),
             .unsupported(let m), .notFound(let m), .internalError(let m):
            return m
        case .outOfMemory:
            return "out of memory"
        case .api(let info):
            return info.summary
        }
    }
}
