import Glibc

/// The original's `ask`, done right: system instruction precedence, the
/// request (plain or streamed), the reply's sentiment and the saved
/// dialogue.
extension Model {
    /// The system message for a request: the argument, else the current
    /// assistant's instructions, else the handle's instruction, else none.
    func systemMessage(_ argument: String?, _ call: Call) throws(OMError) -> String? {
        if let argument { return argument }
        try applyPendingAssistant(call)
        if let a = shared.withLock({ $0.assistant?.instructions }), !a.isEmpty { return a }
        return config.systemInstruction
    }

    /// The messages of a chat request.
    private func chatMessages(_ message: String, system: String?) throws(OMError) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        if config.sendHistory {
            for e in try dialogue.entries(sentiments: false) where e.role != "system" {
                messages.append(ChatMessage(role: e.role, content: e.content))
            }
        }
        messages.append(ChatMessage(role: "user", content: message))
        return messages
    }

    /// Saves an exchange to the dialogue; the store adds the reply's
    /// sentiment (when it is written or first read).
    private func record(system: String?, message: String, reply: String) throws(OMError) {
        var entries: [DialogueEntry] = []
        if let system { entries.append(DialogueEntry(role: "system", content: system)) }
        entries.append(DialogueEntry(role: "user", content: message))
        entries.append(DialogueEntry(role: "assistant", content: reply))
        try dialogue.append(entries)
    }

    func ask(_ message: String, system argument: String?, attempts: Int, _ call: Call) throws(OMError) -> String {
        let system = try systemMessage(argument, call)
        let messages = try chatMessages(message, system: system)
        let response = try ChatEndpoint.send(self, call, messages: messages, maxTokens: config.maxOutputTokens,
                                             attempts: client.tries(attempts), stream: false)
        let reply = try ChatEndpoint.replyText(response).trimmedWhitespace()
        try record(system: system, message: message, reply: reply)
        return reply
    }

    /// As ask, delivering the reply as it arrives. `onDelta` returns false
    /// to stop.
    func askStream(_ message: String, system argument: String?, attempts: Int, _ call: Call,
                   onDelta: @escaping (UnsafePointer<CChar>, Int) -> Bool) throws(OMError) -> String {
        let system = try systemMessage(argument, call)
        let messages = try chatMessages(message, system: system)
        let stream = ChatStream(onDelta: onDelta)
        let response = try ChatEndpoint.send(
            self, call, messages: messages, maxTokens: config.maxOutputTokens,
            attempts: client.tries(attempts), stream: true,
            sink: { (bytes) throws(OMError) in try stream.feed(bytes) },
            resetStream: { stream.reset() },
            mayRetry: { stream.deltas == 0 })
        let text: String
        if response.headers["content-type"]?.lowercasedASCII().hasPrefix("text/event-stream") == true {
            try stream.finish()
            guard stream.done || stream.finished else {
                throw .network("the stream ended before the reply was complete (no [DONE]; request id \(response.requestID ?? "none"))")
            }
            text = String(decoding: stream.reply, as: UTF8.self)
            call.state.response = stream.lastEvent
        } else {
            // A server that ignored "stream": the whole completion at once.
            text = try ChatEndpoint.replyText(response)
            var whole = text
            let go = whole.withUTF8 { b -> Bool in
                guard let base = b.baseAddress, b.count > 0 else { return true }
                return Sys.mallocCString(bytes: UnsafeRawBufferPointer(b)).map { p in
                    defer { free(p) }
                    _ = base
                    return onDelta(UnsafePointer(p), b.count)
                } ?? true
            }
            if !go { throw .cancelled("stopped by the stream callback") }
        }
        let reply = text.trimmedWhitespace()
        try record(system: system, message: message, reply: reply)
        return reply
    }
}
