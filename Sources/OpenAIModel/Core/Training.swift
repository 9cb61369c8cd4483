import Glibc

/// The original's train / dynamic_train, done right: convert, validate,
/// upload, create the job.
struct TrainRequest {
    var source: TrainingSource?
    var positive = true
    var baseModel: String?
    var suffix: String?
    var progress: ((String, Int64, Int64) -> Bool)?
}

extension Model {
    /// A private temporary file (mode 0600) for the JSONL, removed by the
    /// caller.
    private func temporaryJSONL() throws(OMError) -> (fd: Int32, path: String) {
        let dir = Sys.env("TMPDIR") ?? "/tmp"
        var template = Array("\(dir)/openaimodel-train-XXXXXX.jsonl".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 6) }
        if fd < 0 { throw .io("cannot create a temporary file in '\(dir)': \(Sys.errnoText(errno))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (fd, path)
    }

    /// Builds the JSONL with `fill`, validates it, uploads it and creates the
    /// job; the job becomes current. Returns the job id.
    private func train(_ request: TrainRequest, _ call: Call,
                       fill: (TrainingBuilder) throws(OMError) -> Void) throws(OMError) -> String {
        // The handle's fine_tune_suffix was checked by om_create.
        try Config.checkFineTuneSuffix(request.suffix, what: "suffix")
        let suffix = request.suffix ?? config.fineTuneSuffix
        let (fd, path) = try temporaryJSONL()
        defer { unlink(path) }
        let writer = JSONLWriter(fd: fd, path: path)
        let stats: TrainingStats
        do throws(OMError) {
            let builder = TrainingBuilder(out: writer, defaultSystem: config.systemInstruction, positive: request.positive)
            if let p = request.progress { builder.progress = { done, total in p("convert", done, total) } }
            try fill(builder)
            stats = try builder.finish()
            if fsync(fd) != 0 { throw .io("cannot write '\(path)': \(Sys.errnoText(errno))") }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        call.log.info("training file: \(stats.examples) examples, about \(stats.estimatedTokens) tokens "
                      + "(largest example about \(stats.largestExampleTokens)), \(writer.bytesWritten) bytes")
        if stats.largestExampleTokens > 65_536 {
            call.log.warn("an example has about \(stats.largestExampleTokens) tokens; the model's context may not hold it")
        }
        try call.checkCancelled()
        let name = "training-\(Sys.epochSeconds()).jsonl"
        let uploadProgress: ((Int64, Int64) -> Bool)? = request.progress.map { p in { done, total in p("upload", done, total) } }
        let fileID = try FineTuningEndpoint.upload(self, call, path: path, fileName: name, progress: uploadProgress)
        call.log.info("uploaded the training file as \(fileID)")
        let job = try FineTuningEndpoint.createJob(self, call, trainingFile: fileID,
                                                   baseModel: request.baseModel ?? config.model,
                                                   suffix: suffix)
        let id = job["id"]?.string ?? ""
        shared.withLock { $0.currentJobID = id }
        call.log.info("fine-tuning job \(id) created (\(stats.examples) examples, ~\(stats.estimatedTokens) tokens)")
        return id
    }

    func train(_ request: TrainRequest, _ call: Call) throws(OMError) -> String {
        guard let source = request.source else { throw .invalidArgument("no training data given") }
        return try train(request, call) { (b) throws(OMError) in try b.add(source) }
    }

    /// Trains on this handle's dialogue: each user message with the reply
    /// that followed (and the system message sent with it).
    func dynamicTrain(_ call: Call) throws(OMError) -> String {
        let entries = try dialogue.entries(sentiments: false)
        let origin = dialogue.path ?? "the dialogue in memory"
        return try train(TrainRequest(), call) { (b) throws(OMError) in
            var system: String? = nil
            var i = 0
            while i < entries.count {
                let e = entries[i]
                switch e.role {
                case "system":
                    system = e.content
                case "user":
                    if i + 1 < entries.count, entries[i + 1].role == "assistant" {
                        try b.add(system: system, user: e.content, assistant: entries[i + 1].content,
                                  origin: "\(origin): entry \(i + 1)")
                        i += 1
                    }
                    system = nil
                default:
                    break
                }
                i += 1
            }
        }
    }
}
