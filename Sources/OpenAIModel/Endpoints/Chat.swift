/// A text message of a chat request.
struct ChatMessage {
    var role: String
    var content: String
}

/// POST /chat/completions, plain and streamed.
enum ChatEndpoint {
    /// A chat message for the request body.
    static func message(_ role: String, _ content: String) throws(OMError) -> JSON {
        let m = try JSON.object()
        try m.set("role", role)
        try m.set("content", content)
        return m
    }

    /// The request body. The output limit goes in `tokenParam`
    /// (max_completion_tokens, which the API description prefers and
    /// reasoning models require, or max_tokens for servers that know only
    /// that one).
    static func body(model: String, messages: JSON, maxTokens: Int, tokenParam: String,
                     stream: Bool) throws(OMError) -> JSON {
        let b = try JSON.object()
        try b.set("model", model)
        try b.set("messages", messages)
        try b.set("temperature", JSON.int(0))
        try b.set(tokenParam, maxTokens)
        if stream {
            try b.set("stream", true)
            let so = try JSON.object()
            try so.set("include_usage", true)
            try b.set("stream_options", so)
        }
        return b
    }

    /// The body `body` describes for text messages, written straight to
    /// bytes: the same bytes jansson's compact dump of that tree gives
    /// (members in the same order, strings escaped the same way), without
    /// building the tree (a third of the library's own work per request).
    static func bodyBytes(model: String, messages: [ChatMessage], maxTokens: Int, tokenParam: String,
                          stream: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + messages.reduce(0) { $0 + $1.content.utf8.count + 32 })
        func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        raw("{\"model\":")
        JSONText.appendString(model, to: &out)
        raw(",\"messages\":[")
        for (k, m) in messages.enumerated() {
            raw(k == 0 ? "{\"role\":" : ",{\"role\":")
            JSONText.appendString(m.role, to: &out)
            raw(",\"content\":")
            JSONText.appendString(m.content, to: &out)
            raw("}")
        }
        raw("],\"temperature\":0,")
        JSONText.appendString(tokenParam, to: &out)
        raw(":")
        out.append(contentsOf: String(maxTokens).utf8)
        if stream { raw(",\"stream\":true,\"stream_options\":{\"include_usage\":true}") }
        raw("}")
        return out
    }

    /// Whether an error says the server does not accept this token-limit
    /// parameter (so the other one should be tried).
    static func rejectsParam(_ e: OMError, _ param: String) -> Bool {
        guard case .api(let info) = e, info.httpStatus == 400 || info.httpStatus == 422 else { return false }
        return info.param == param || info.message.containsBytes(param)
    }

    /// Sends a completion request, switching the token-limit parameter once
    /// if the server rejects the one in use (remembered on the handle).
    static func send(_ model: Model, _ call: Call, messages: [ChatMessage], maxTokens: Int, attempts: Int,
                     stream: Bool, sink: StreamSink? = nil, resetStream: (() -> Void)? = nil,
                     mayRetry: () -> Bool = { true }) throws(OMError) -> HTTPResponse {
        var param = model.shared.withLock { $0.tokenParam }
        var switched = false
        let modelName = model.shared.withLock { $0.assistant?.model } ?? model.config.model
        while true {
            let b = bodyBytes(model: modelName, messages: messages, maxTokens: maxTokens, tokenParam: param, stream: stream)
            let request = HTTPRequest(method: "POST", path: "/chat/completions", body: .json(b), stream: stream)
            do throws(OMError) {
                return try model.client.send(request, attempts: attempts, call: call, sink: sink,
                                             beforeTry: resetStream, mayRetry: mayRetry)
            } catch {
                guard !switched, rejectsParam(error, param) else { throw error }
                let other = param == "max_completion_tokens" ? "max_tokens" : "max_completion_tokens"
                call.log.info("the server rejected \(param); using \(other) from now on")
                param = other
                switched = true
                let p = param
                model.shared.withLock { $0.tokenParam = p }
            }
        }
    }

    /// The reply text of a completion response: read by ReplyScan in one
    /// pass when it can, else from the parsed completion.
    static func replyText(_ response: HTTPResponse) throws(OMError) -> String {
        if let text = ReplyScan.completionContent(response.body) { return text }
        let completion = try response.json(what: "the chat completion")
        return try replyText(completion, requestID: response.requestID)
    }

    /// The reply text of a completion object: choices[0].message.content
    /// (a string, or an array of text parts), else its refusal.
    static func replyText(_ completion: JSON, requestID: String?) throws(OMError) -> String {
        guard let choice = completion["choices"]?[0] else {
            if completion["error"] != nil {
                throw .api(APIErrorParser.parse(status: 200, headers: HeaderList(), body: (try? completion.dumpBytes()) ?? [],
                                                secret: nil))
            }
            throw .parse("the completion has no choices (request id \(requestID ?? "none"))")
        }
        let msg = choice["message"]
        if let s = msg?["content"]?.string { return s }
        if let parts = msg?["content"], parts.isArray {
            var s = ""
            for p in parts.elements { if let t = p["text"]?.string { s += t } }
            return s
        }
        if let r = msg?["refusal"]?.string { return r }
        if let t = choice["text"]?.string { return t }  // legacy completion shape
        if msg?["content"]?.isNull == true { return "" }
        throw .parse("the completion's choices[0].message has no content (request id \(requestID ?? "none"))")
    }

    /// An error object met inside a stream, as an API error.
    static func streamError(_ payload: JSON, status: Int, requestID: String?) -> OMError {
        let err = payload["error"] ?? payload
        var info = APIErrorInfo(httpStatus: status, type: err["type"]?.scalarText, code: err["code"]?.scalarText,
                                param: err["param"]?.scalarText,
                                message: "error in the middle of the stream: "
                                    + (err["message"]?.scalarText ?? err.string ?? "no message"),
                                requestID: requestID, body: (try? payload.dump()) ?? "")
        // Classify by the error's type, since the HTTP status was 200.
        switch info.type ?? "" {
        case "server_error", "internal_error", "service_unavailable": info.httpStatus = 500
        case "rate_limit_exceeded", "rate_limit_error", "tokens": info.httpStatus = 429
        case "authentication_error": info.httpStatus = 401
        default: break
        }
        return .api(info)
    }
}

/// Decodes a streamed completion: SSE events -> text deltas for the host.
final class ChatStream {
    var decoder = SSEDecoder()
    var reply: [UInt8] = []
    var done = false
    var finished = false
    var deltas = 0
    /// The data of the last JSON event (om_last_response for a stream).
    var lastEvent: [UInt8] = []
    let onDelta: (UnsafePointer<CChar>, Int) -> Bool  // false = stop

    init(onDelta: @escaping (UnsafePointer<CChar>, Int) -> Bool) { self.onDelta = onDelta }

    func reset() {
        decoder = SSEDecoder()
        reply.removeAll(keepingCapacity: true)
        done = false
        finished = false
        lastEvent = []
    }

    func feed(_ bytes: UnsafeRawBufferPointer) throws(OMError) {
        try decoder.feed(bytes) { (ev) throws(OMError) in try self.handle(ev) }
    }

    func finish() throws(OMError) {
        try decoder.finish { (ev) throws(OMError) in try self.handle(ev) }
    }

    private func handle(_ ev: SSEEvent) throws(OMError) {
        if done { return }
        if ev.data.count == 6 && ev.data.elementsEqual("[DONE]".utf8) {
            done = true
            return
        }
        if ev.data.isEmpty { return }
        lastEvent = ev.data
        if ev.event != "error", try handleScanned(ev.data) { return }
        let payload = try JSON.parse(ev.data, what: "a stream event")
        if ev.event == "error" || payload["error"] != nil {
            throw ChatEndpoint.streamError(payload, status: 200, requestID: nil)
        }
        guard let choices = payload["choices"], choices.isArray else { return }
        for choice in choices.elements {
            if choice["finish_reason"]?.string != nil { finished = true }
            guard let content = choice["delta"]?["content"] else { continue }
            let keepGoing: Bool? = content.withStringBytes { b -> Bool in
                guard b.count > 0, let base = b.baseAddress else { return true }
                reply.append(contentsOf: b)
                deltas += 1
                // jansson keeps strings NUL-terminated: handed over as is.
                return onDelta(base.assumingMemoryBound(to: CChar.self), b.count)
            }
            if keepGoing == false { throw .cancelled("stopped by the stream callback") }
        }
    }

    /// Reused for the NUL-terminated text handed to the host.
    private var piece: [UInt8] = []

    /// The same work as the jansson path above for a chunk ReplyScan can
    /// read; false when it cannot (the caller then parses the chunk).
    private func handleScanned(_ data: [UInt8]) throws(OMError) -> Bool {
        try data.withUnsafeBytes { b in Result { () throws(OMError) -> Bool in
            guard let scan = ReplyScan.scan(b, .chunk), !scan.hasError else { return false }
            if scan.finished { finished = true }
            for p in scan.pieces where p.end > p.start {
                piece.removeAll(keepingCapacity: true)
                ReplyScan.decode(b, p, into: &piece)
                if piece.isEmpty { continue }
                reply.append(contentsOf: piece)
                deltas += 1
                let n = piece.count
                piece.append(0)
                let keepGoing = piece.withUnsafeBufferPointer { pb in
                    onDelta(UnsafeRawPointer(pb.baseAddress!).assumingMemoryBound(to: CChar.self), n)
                }
                if !keepGoing { throw .cancelled("stopped by the stream callback") }
            }
            return true
        } }.get()
    }
}
