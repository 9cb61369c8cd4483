/// Assistants: defined in a local JSON file (the original's format), or
/// served by GET /assistants/{id} where a server still offers that API.
enum AssistantsFile {
    struct Entry {
        var id: String
        var name: String?
        var title: String?
        var description: String?
        var instructions: String?
    }

    /// Reads the assistants file: a JSON object keyed by assistant id.
    static func load(_ path: String) throws(OMError) -> [Entry] {
        let bytes = try Files.readAll(path, what: "assistants file", limit: 64 * 1024 * 1024)
        let root: JSON
        do throws(OMError) {
            root = try JSON.parse(bytes, what: "assistants file '\(path)'")
        } catch {
            throw .data(error.message)
        }
        guard root.isObject else {
            throw .data("assistants file '\(path)' must hold a JSON object keyed by assistant id")
        }
        var out: [Entry] = []
        for (id, v) in root.members {
            guard v.isObject else {
                throw .data("assistants file '\(path)': the entry '\(id)' is not an object")
            }
            out.append(Entry(id: id, name: v["name"]?.scalarText, title: v["title"]?.scalarText,
                             description: v["description"]?.scalarText,
                             instructions: try instructions(v["instructions"], base: Files.dirname(path), id: id, path: path)))
        }
        return out
    }

    /// The instruction texts in numeric order of their keys, joined by a
    /// blank line. An entry's `text`, else the contents of its `file`
    /// (relative to the assistants file). A plain string is taken as is.
    static func instructions(_ j: JSON?, base: String, id: String, path: String) throws(OMError) -> String? {
        guard let j, !j.isNull else { return nil }
        if let s = j.string { return s }
        var items: [(order: Double, index: Int, text: String)] = []
        let entries: [(String, JSON)] = j.isArray
            ? j.elements.enumerated().map { (String($0.offset + 1), $0.element) }
            : j.members.map { ($0.key, $0.value) }
        for (i, (key, v)) in entries.enumerated() {
            var text = v.string ?? v["text"]?.string ?? ""
            if text.isEmpty, let f = v["file"]?.string, !f.isEmpty {
                let bytes = try Files.readAll(Files.resolve(f, in: base), what: "instruction file of assistant '\(id)'")
                text = String(decoding: bytes, as: UTF8.self)
            }
            if text.isEmpty { continue }
            items.append((Double(key) ?? Double.greatestFiniteMagnitude, i, text))
        }
        if items.isEmpty { return nil }
        items.sort { $0.order != $1.order ? $0.order < $1.order : $0.index < $1.index }
        return items.map(\.text).joined(separator: "\n\n")
    }

    /// om_list_assistants: [{"id", "name", "title", "description"}].
    static func list(_ path: String) throws(OMError) -> JSON {
        let out = try JSON.array()
        for e in try load(path) {
            let o = try JSON.object()
            try o.set("id", e.id)
            try o.set("name", JSON.stringOrNull(e.name))
            try o.set("title", JSON.stringOrNull(e.title))
            try o.set("description", JSON.stringOrNull(e.description))
            try out.append(o)
        }
        return out
    }
}

extension Model {
    /// Makes an assistant current: the local file first, then the server.
    /// On failure the current assistant stays as it was.
    func setAssistant(_ id: String, _ call: Call) throws(OMError) {
        let path = config.assistantsFile
        var local: [AssistantsFile.Entry] = []
        do throws(OMError) {
            local = try AssistantsFile.load(path)
        } catch {
            // A missing file only means nothing is defined locally.
            if case .noFile = error {} else { throw error }
        }
        if let e = local.first(where: { $0.id == id }) {
            let a = AssistantState(id: id, name: e.name, instructions: e.instructions, model: nil)
            shared.withLock { $0.assistant = a; $0.pendingAssistantID = nil }
            call.log.info("assistant \(id) (\(e.name ?? "no name")) made current from \(path)")
            return
        }
        let request = HTTPRequest(method: "GET", path: "/assistants/\(HTTPClient.percentEncode(id))",
                                  headers: ["OpenAI-Beta: assistants=v2"])
        let response: HTTPResponse
        do throws(OMError) {
            response = try client.send(request, attempts: client.tries(0), call: call)
        } catch {
            let howTo = "It is not defined in the assistants file '\(path)'. OpenAI shut the Assistants API down "
                + "on 2026-08-26; define the assistant locally by adding to that file: "
                + "{\"\(id)\": {\"name\": \"...\", \"title\": \"...\", \"description\": \"...\", "
                + "\"instructions\": {\"1\": {\"name\": \"...\", \"text\": \"...\"}}}}"
            // Only "not there" answers mean the assistant does not exist; any
            // other failure keeps its class (a 503 or a stall is not a
            // missing assistant).
            switch error {
            case .api(let info) where info.httpStatus == 404 || info.httpStatus == 410:
                throw .notFound("assistant '\(id)' is neither defined locally nor served by \(config.base.host) "
                                + "(HTTP \(info.httpStatus): \(info.message)). \(howTo)")
            case .api(var info):
                info.message = "assistant '\(id)' is not defined in the assistants file '\(path)', and "
                    + "GET /assistants/\(id) failed: \(info.message)"
                throw .api(info)
            case .network(let m):
                throw .network("assistant '\(id)': \(m). \(howTo)")
            case .timeout(let m):
                throw .timeout("assistant '\(id)': \(m). \(howTo)")
            default:
                throw error
            }
        }
        let j = try response.json(what: "the assistant object")
        guard j.isObject, j["id"] != nil || j["instructions"] != nil else {
            throw .parse("GET /assistants/\(id) did not answer an assistant object (request id \(response.requestID ?? "none"))")
        }
        let a = AssistantState(id: id, name: j["name"]?.string, instructions: j["instructions"]?.string,
                               model: j["model"]?.string)
        shared.withLock { $0.assistant = a; $0.pendingAssistantID = nil }
        call.log.info("assistant \(id) made current from the server")
    }

    /// Applies the assistant named at creation, on first use.
    func applyPendingAssistant(_ call: Call) throws(OMError) {
        guard let id = shared.withLock({ $0.pendingAssistantID }) else { return }
        try setAssistant(id, call)
    }
}
