/// GET /models.
enum ModelsEndpoint {
    /// The model ids the server lists, as a JSON array of strings.
    static func list(_ model: Model, _ call: Call) throws(OMError) -> JSON {
        let response = try model.client.send(HTTPRequest(method: "GET", path: "/models"),
                                             attempts: model.client.tries(0), call: call)
        let body = try response.json(what: "the /models response")
        // OpenAI answers {"object": "list", "data": [...]}; tolerate a bare array.
        guard let data = body.isArray ? body : body["data"], data.isArray else {
            throw .parse("the /models response has no \"data\" array (request id \(response.requestID ?? "none"))")
        }
        let ids = try JSON.array()
        for entry in data.elements {
            if let id = entry["id"]?.string ?? entry.string { try ids.append(id) }
        }
        return ids
    }
}
