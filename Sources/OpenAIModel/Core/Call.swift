import COpenAIModel
import Glibc

/// What om_errmsg and friends report for one thread on one handle. Only
/// the owning thread writes it (the handle's map that holds it is locked);
/// strings are on the C heap and replaced at the thread's next call.
final class ThreadState: @unchecked Sendable {
    var status: om_status = OM_OK
    var message: UnsafeMutablePointer<CChar>?
    var detail: UnsafeMutablePointer<CChar>?
    var requestID: UnsafeMutablePointer<CChar>?
    var httpStatus: Int32 = 0
    /// The body of the call's last successful response (om_last_response),
    /// kept as received; its C string is made when first asked for.
    var response: [UInt8]?
    private var responseText: UnsafeMutablePointer<CChar>?

    /// Start of a call: no error, no response yet.
    func reset() {
        status = OM_OK
        replace(&message, nil)
        replace(&detail, nil)
        replace(&requestID, nil)
        httpStatus = 0
        response = nil
        if let old = responseText { free(old); responseText = nil }
    }

    /// The last successful response's body as a C string (the key, should a
    /// server echo it, scrubbed), or nil.
    func responseCString(secret: String?) -> UnsafePointer<CChar>? {
        if responseText == nil, let body = response {
            replace(&responseText, Secrets.scrub(String(decoding: body, as: UTF8.self), secret))
        }
        return responseText.map { UnsafePointer($0) }
    }

    func replace(_ slot: inout UnsafeMutablePointer<CChar>?, _ value: String?) {
        if let old = slot { free(old) }
        slot = value.flatMap { Sys.mallocCString($0) }
    }

    deinit {
        if let message { free(message) }
        if let detail { free(detail) }
        if let requestID { free(requestID) }
        if let responseText { free(responseText) }
    }
}

/// One call into the library: its cancellation token, its logger, and the
/// calling thread's error state.
final class Call: @unchecked Sendable {
    let cancel: CancelToken
    let log: Logger
    let state: ThreadState

    init(cancel: CancelToken, log: Logger, state: ThreadState) {
        self.cancel = cancel
        self.log = log
        self.state = state
    }

    /// Records the last response seen (request id, HTTP status).
    func recordResponse(status: Int, requestID: String?) {
        state.httpStatus = Int32(clamping: status)
        state.replace(&state.requestID, requestID)
    }

    func checkCancelled() throws(OMError) {
        if cancel.isCancelled { throw .cancelled("cancelled by om_cancel") }
    }
}
