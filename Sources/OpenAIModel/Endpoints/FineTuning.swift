/// Files and fine-tuning jobs: POST /files, /fine_tuning/jobs and friends.
enum FineTuningEndpoint {
    /// Uploads a JSONL file for fine-tuning (multipart, streamed from disk
    /// by libcurl); returns the file id.
    static func upload(_ model: Model, _ call: Call, path: String, fileName: String,
                       progress: ((Int64, Int64) -> Bool)?) throws(OMError) -> String {
        let form = MultipartForm(fields: [("purpose", "fine-tune")], fileField: "file", filePath: path,
                                 fileName: fileName, fileType: "application/jsonl")
        var request = HTTPRequest(method: "POST", path: "/files", body: .multipart(form))
        request.uploadProgress = progress
        let response = try model.client.send(request, attempts: model.client.tries(0), call: call)
        let j = try response.json(what: "the uploaded file object")
        guard let id = j["id"]?.string, !id.isEmpty else {
            throw .parse("POST /files answered without a file id (request id \(response.requestID ?? "none"))")
        }
        return id
    }

    /// Creates a fine-tuning job; returns the job object.
    static func createJob(_ model: Model, _ call: Call, trainingFile: String, baseModel: String,
                          suffix: String?) throws(OMError) -> JSON {
        let body = try JSON.object()
        try body.set("training_file", trainingFile)
        try body.set("model", baseModel)
        if let suffix { try body.set("suffix", suffix) }
        let request = HTTPRequest(method: "POST", path: "/fine_tuning/jobs", body: .json(try body.dumpBytes()))
        let response = try model.client.send(request, attempts: model.client.tries(0), call: call)
        let job = try response.json(what: "the fine-tuning job")
        guard job["id"]?.string != nil else {
            throw .parse("POST /fine_tuning/jobs answered without a job id (request id \(response.requestID ?? "none"))")
        }
        return job
    }

    static func jobPath(_ id: String) -> String { "/fine_tuning/jobs/\(HTTPClient.percentEncode(id))" }

    /// What an answer must hold to be passed through: a job object (string
    /// "id" and "status"), or a list object (a "data" array).
    enum Shape { case job, list }

    /// GET and POST calls whose answer is passed through as JSON, once it has
    /// the expected shape (anything else is OM_EPARSE, not a result the host
    /// would then misread).
    static func call(_ model: Model, _ call: Call, method: String, path: String,
                     query: [(String, String)] = [], what: String, shape: Shape) throws(OMError) -> JSON {
        let response = try model.client.send(HTTPRequest(method: method, path: path, query: query),
                                             attempts: model.client.tries(0), call: call)
        let j = try response.json(what: what)
        let rid = "request id \(response.requestID ?? "none")"
        guard j.isObject else { throw .parse("\(what) is not a JSON object (\(rid))") }
        switch shape {
        case .job:
            guard j["id"]?.string != nil, j["status"]?.string != nil else {
                throw .parse("\(what) has no \"id\" and \"status\" strings: not a fine-tuning job (\(rid))")
            }
        case .list:
            guard j["data"]?.isArray == true else {
                throw .parse("\(what) has no \"data\" array: not a list (\(rid))")
            }
        }
        return j
    }

    static func page(after: String?, limit: Int) -> [(String, String)] {
        var q: [(String, String)] = []
        if let after { q.append(("after", after)) }
        if limit > 0 { q.append(("limit", String(limit))) }
        return q
    }

    static func get(_ model: Model, _ call: Call, id: String) throws(OMError) -> JSON {
        try self.call(model, call, method: "GET", path: jobPath(id), what: "the fine-tuning job", shape: .job)
    }

    static func events(_ model: Model, _ call: Call, id: String, after: String?, limit: Int) throws(OMError) -> JSON {
        try self.call(model, call, method: "GET", path: jobPath(id) + "/events", query: page(after: after, limit: limit),
                      what: "the job's events", shape: .list)
    }

    static func cancel(_ model: Model, _ call: Call, id: String) throws(OMError) -> JSON {
        try self.call(model, call, method: "POST", path: jobPath(id) + "/cancel", what: "the fine-tuning job",
                      shape: .job)
    }

    static func list(_ model: Model, _ call: Call, after: String?, limit: Int) throws(OMError) -> JSON {
        try self.call(model, call, method: "GET", path: "/fine_tuning/jobs", query: page(after: after, limit: limit),
                      what: "the list of jobs", shape: .list)
    }

    static let finalStates: Set<String> = ["succeeded", "failed", "cancelled"]

    /// Follows a job until it ends. `progress(status, eventJSON?)` returns
    /// false to stop waiting. Polls with backoff: 0.25 s growing by half
    /// each time up to 15 s.
    static func wait(_ model: Model, _ call: Call, id: String, timeoutMs: Int,
                     progress: (String, String?) -> Bool) throws(OMError) -> JSON {
        let deadline: Int64? = timeoutMs > 0 ? Sys.millis() + Int64(timeoutMs) : nil
        var lastStatus: String? = nil
        var seen = Set<String>()
        var interval = 0.25
        model.shared.withLock { $0.currentJobID = id }
        while true {
            let job = try get(model, call, id: id)
            let status = job["status"]?.string ?? "unknown"
            if status != lastStatus {
                lastStatus = status
                if !progress(status, nil) { throw .cancelled("stopped by the job progress callback") }
            }
            // New events, oldest first (the server lists newest first).
            if let data = try? events(model, call, id: id, after: nil, limit: 100)["data"], data.isArray {
                var fresh: [JSON] = []
                for e in data.elements {
                    let eid = e["id"]?.string ?? ((try? e.dump()) ?? "")
                    if !seen.contains(eid) { seen.insert(eid); fresh.append(e) }
                }
                for e in fresh.reversed() {
                    if !progress(status, try e.dump()) { throw .cancelled("stopped by the job progress callback") }
                }
            }
            if finalStates.contains(status) { return job }
            var pause = interval
            if let deadline {
                let left = Double(deadline - Sys.millis()) / 1000
                if left <= 0 { throw .timeout("job \(id) is still '\(status)' after \(timeoutMs) ms") }
                pause = min(pause, left)
            }
            try model.client.sleep(seconds: pause, call: call)
            interval = min(interval * 1.5, 15)
        }
    }
}
