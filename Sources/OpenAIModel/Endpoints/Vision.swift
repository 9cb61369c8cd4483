/// Image description: a chat request whose user message carries the prompt
/// and the image.
enum VisionEndpoint {
    /// A request body that streams a local image: the JSON around the image
    /// is built by jansson with a marker in place of the data, split there,
    /// and the file's base64 is produced between the two halves while
    /// libcurl sends. Memory stays the size of the buffers, whatever the
    /// image's size.
    final class ImageBody: BodyStream {
        private let prefix: [UInt8]
        private let suffix: [UInt8]
        private var encoder: Base64FileStream
        private var phase = 0  // 0 prefix, 1 image, 2 suffix, 3 done
        private var offset = 0
        /// The open image: its descriptor must outlive the transfer.
        private let file: ImageFile
        let size: Int64

        init(prefix: [UInt8], suffix: [UInt8], file: ImageFile) {
            self.prefix = prefix
            self.suffix = suffix
            self.file = file
            let encoder = Base64FileStream(fd: file.fd, size: file.size)
            self.encoder = encoder
            size = Int64(prefix.count) + encoder.encodedSize + Int64(suffix.count)
        }

        func read(into dst: UnsafeMutableRawBufferPointer) throws(OMError) -> Int {
            var written = 0
            while written < dst.count && phase < 3 {
                let room = UnsafeMutableRawBufferPointer(rebasing: dst[written...])
                switch phase {
                case 0, 2:
                    let src = phase == 0 ? prefix : suffix
                    let n = min(room.count, src.count - offset)
                    src.withUnsafeBytes { s in
                        room.copyMemory(from: UnsafeRawBufferPointer(rebasing: s[offset..<(offset + n)]))
                    }
                    offset += n
                    written += n
                    if offset == src.count { phase += 1; offset = 0 }
                default:
                    let n = try encoder.read(into: room)
                    if n == 0 { phase = 2; offset = 0 } else { written += n }
                }
            }
            return written
        }

        func rewind() throws(OMError) {
            phase = 0
            offset = 0
            encoder.rewind()
        }
    }

    /// Sends the image and prompt; returns the reply text as received.
    static func describe(_ model: Model, _ call: Call, image: String, prompt: String?,
                         system: String?) throws(OMError) -> String {
        guard !image.isEmpty else { throw .invalidArgument("image is empty") }
        let isURL = image.hasPrefix("http://") || image.hasPrefix("https://")
        // The file is checked before anything goes over the network.
        var file: ImageFile? = nil
        if !isURL { file = try ImageFile.open(image) }

        let marker = "OMIMAGEDATA" + Sys.randomHex(12)
        let imageURL = try JSON.object()
        if let file {
            try imageURL.set("url", "data:\(file.type.mime);base64,\(marker)")
        } else {
            try imageURL.set("url", image)
        }
        try imageURL.set("detail", model.config.imageDetail)
        let textPart = try JSON.object()
        try textPart.set("type", "text")
        try textPart.set("text", prompt ?? "What's in this image?")
        let imagePart = try JSON.object()
        try imagePart.set("type", "image_url")
        try imagePart.set("image_url", imageURL)
        let content = try JSON.array()
        try content.append(textPart)
        try content.append(imagePart)
        let user = try JSON.object()
        try user.set("role", "user")
        try user.set("content", content)

        let sys = try model.systemMessage(system, call)
        let messages = try JSON.array()
        if let sys { try messages.append(ChatEndpoint.message("system", sys)) }
        try messages.append(user)

        var param = model.shared.withLock { $0.tokenParam }
        let modelName = model.shared.withLock { $0.assistant?.model } ?? model.config.model
        var switched = false
        while true {
            let body = try ChatEndpoint.body(model: modelName, messages: messages,
                                             maxTokens: model.config.imageMaxOutputTokens, tokenParam: param,
                                             stream: false).dumpBytes()
            let requestBody: RequestBody
            if let file {
                guard let r = body.firstRange(of: Array(marker.utf8)) else {
                    throw .internalError("image marker missing from the request body")
                }
                let stream = ImageBody(prefix: Array(body[..<r.lowerBound]), suffix: Array(body[r.upperBound...]),
                                       file: file)
                requestBody = .stream(stream, contentType: "application/json")
            } else {
                requestBody = .json(body)
            }
            let request = HTTPRequest(method: "POST", path: "/chat/completions", body: requestBody)
            do throws(OMError) {
                let response = try model.client.send(request, attempts: model.client.tries(0), call: call)
                let completion = try response.json(what: "the chat completion")
                return try ChatEndpoint.replyText(completion, requestID: response.requestID)
            } catch {
                guard !switched, ChatEndpoint.rejectsParam(error, param) else { throw error }
                param = param == "max_completion_tokens" ? "max_tokens" : "max_completion_tokens"
                switched = true
                let p = param
                model.shared.withLock { $0.tokenParam = p }
            }
        }
    }
}

/// Finding the JSON in a model's reply.
enum ReplyJSON {
    /// The reply as JSON: the object or array it holds (inside code fences
    /// or surrounded by text), else {"description": "<reply>"}.
    static func extract(_ reply: String) throws(OMError) -> JSON {
        if let j = find(reply) { return j }
        let o = try JSON.object()
        try o.set("description", reply.trimmedWhitespace())
        return o
    }

    /// The first JSON object or array in the text, if any.
    static func find(_ reply: String) -> JSON? {
        let text = Array(reply.utf8)
        // Fenced blocks first: ```json ... ``` or ``` ... ```.
        var i = 0
        while let open = find(text, "```", from: i) {
            var start = open + 3
            while start < text.count && text[start] != 10 { start += 1 }  // skip the info string
            guard let close = find(text, "```", from: start) else { break }
            if let j = parseValue(Array(text[min(start, close)..<close])) { return j }
            i = close + 3
        }
        if let j = parseValue(text) { return j }
        // Otherwise the first '{' or '[' from which a whole value parses.
        var tries = 0
        for (k, b) in text.enumerated() where b == 123 || b == 91 {
            if let j = parsePrefix(Array(text[k...])) { return j }
            tries += 1
            if tries >= 64 { break }
        }
        return nil
    }

    private static func find(_ h: [UInt8], _ needle: String, from: Int) -> Int? {
        let n = Array(needle.utf8)
        guard from >= 0, from < h.count else { return nil }
        return Array(h[from...]).firstRange(of: n).map { $0.lowerBound + from }
    }

    /// The whole text as one object or array (white space around allowed).
    private static func parseValue(_ bytes: [UInt8]) -> JSON? {
        guard let j = try? JSON.parse(bytes, what: "reply"), j.isObject || j.isArray else { return nil }
        return j
    }

    /// A value at the start of the text, ignoring what follows it.
    private static func parsePrefix(_ bytes: [UInt8]) -> JSON? {
        guard let j = try? JSON.parsePrefix(bytes), j.isObject || j.isArray else { return nil }
        return j
    }
}
