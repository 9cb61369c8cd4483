import COpenAIModel

@c @implementation
public func om_train(_ model: OpaquePointer?, _ data: UnsafePointer<CChar>?, _ data_dir: UnsafePointer<CChar>?,
                     _ data_file: UnsafePointer<CChar>?, _ positive: Int32,
                     _ out_job_id: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    var o = om_train_options()
    o.version = UInt32(OM_TRAIN_OPTIONS_VERSION)
    o.data = data
    o.data_dir = data_dir
    o.data_file = data_file
    o.positive = positive
    return withUnsafePointer(to: &o) { om_train_ex(model, $0, out_job_id) }
}

@c @implementation
public func om_train_ex(_ model: OpaquePointer?, _ options: UnsafePointer<om_train_options>?,
                        _ out_job_id: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_job_id, what: "out_job_id") { (m, call) throws(OMError) in
        guard let options else { throw .invalidArgument("options is NULL") }
        let o = options.pointee
        guard o.version >= 1 && o.version <= UInt32(OM_TRAIN_OPTIONS_VERSION) else {
            throw .invalidArgument("train options version \(o.version) is not supported (use OM_TRAIN_OPTIONS_INIT)")
        }
        var sources: [TrainingSource] = []
        if let d = try Sys.optionalUTF8(o.data, what: "data") { sources.append(.text(d)) }
        if let d = try Sys.optionalUTF8(o.data_dir, what: "data_dir") {
            if d.isEmpty { throw .invalidArgument("data_dir is empty") }
            sources.append(.folder(d))
        }
        if let f = try Sys.optionalUTF8(o.data_file, what: "data_file") {
            if f.isEmpty { throw .invalidArgument("data_file is empty") }
            sources.append(.file(f))
        }
        guard sources.count == 1 else {
            throw .invalidArgument(sources.isEmpty ? "no training data: give one of data, data_dir, data_file"
                                                   : "give exactly one of data, data_dir, data_file (\(sources.count) given)")
        }
        var r = TrainRequest()
        r.source = sources[0]
        r.positive = o.positive != 0
        r.baseModel = try Sys.optionalUTF8(o.model, what: "model").flatMap { $0.isEmpty ? nil : $0 }
        r.suffix = try Sys.optionalUTF8(o.suffix, what: "suffix").flatMap { $0.isEmpty ? nil : $0 }
        if let cb = o.progress {
            let ud = o.userdata
            r.progress = { stage, done, total in
                let rc: Int32 = stage == "upload" ? cb(StaticStrings.c("upload"), done, total, ud)
                                                  : cb(StaticStrings.c("convert"), done, total, ud)
                return rc == 0
            }
        }
        return try Boundary.cString(m.train(r, call))
    }
}

@c @implementation
public func om_dynamic_train(_ model: OpaquePointer?,
                             _ out_job_id: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_job_id, what: "out_job_id") { (m, call) throws(OMError) in
        try Boundary.cString(m.dynamicTrain(call))
    }
}

@c @implementation
public func om_current_job_id(_ model: OpaquePointer?,
                              _ out_job_id: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_job_id, what: "out_job_id") { (m, _) throws(OMError) in
        guard let id = m.shared.withLock({ $0.currentJobID }) else {
            throw .notFound("this handle has no current fine-tuning job yet")
        }
        return try Boundary.cString(id)
    }
}

@c @implementation
public func om_save_job_id(_ model: OpaquePointer?, _ job_id: UnsafePointer<CChar>?,
                           _ description: UnsafePointer<CChar>?, _ filename: UnsafePointer<CChar>?) -> om_status {
    Boundary.run(model) { (m, _) throws(OMError) in
        let id = try Sys.requiredUTF8(job_id, what: "job_id")
        let desc = try Sys.optionalUTF8(description, what: "description")
        let name = try Sys.optionalUTF8(filename, what: "filename") ?? "job_ids.json"
        if name.isEmpty { throw .invalidArgument("filename is empty") }
        try JobRegistry.save(path: Files.resolve(name, in: m.config.dataDir), id: id, description: desc,
                             created: Sys.epochSeconds())
    }
}

@c @implementation
public func om_job_get(_ model: OpaquePointer?, _ job_id: UnsafePointer<CChar>?,
                       _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        try FineTuningEndpoint.get(m, call, id: Sys.requiredUTF8(job_id, what: "job_id")).dumpC()
    }
}

@c @implementation
public func om_job_events(_ model: OpaquePointer?, _ job_id: UnsafePointer<CChar>?, _ after: UnsafePointer<CChar>?,
                          _ limit: Int32, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        let id = try Sys.requiredUTF8(job_id, what: "job_id")
        let a = try Sys.optionalUTF8(after, what: "after").flatMap { $0.isEmpty ? nil : $0 }
        return try FineTuningEndpoint.events(m, call, id: id, after: a, limit: Int(limit)).dumpC()
    }
}

@c @implementation
public func om_job_cancel(_ model: OpaquePointer?, _ job_id: UnsafePointer<CChar>?,
                          _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        try FineTuningEndpoint.cancel(m, call, id: Sys.requiredUTF8(job_id, what: "job_id")).dumpC()
    }
}

@c @implementation
public func om_list_jobs(_ model: OpaquePointer?, _ after: UnsafePointer<CChar>?, _ limit: Int32,
                         _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        let a = try Sys.optionalUTF8(after, what: "after").flatMap { $0.isEmpty ? nil : $0 }
        return try FineTuningEndpoint.list(m, call, after: a, limit: Int(limit)).dumpC()
    }
}

@c @implementation
public func om_job_wait(_ model: OpaquePointer?, _ job_id: UnsafePointer<CChar>?, _ timeout_ms: Int,
                        _ progress: om_job_cb?, _ userdata: UnsafeMutableRawPointer?,
                        _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        let id = try Sys.requiredUTF8(job_id, what: "job_id")
        let job = try FineTuningEndpoint.wait(m, call, id: id, timeoutMs: timeout_ms) { status, event in
            guard let progress else { return true }
            let rc = status.withCString { s in
                event.map { e in e.withCString { progress(s, $0, userdata) } } ?? progress(s, nil, userdata)
            }
            return rc == 0
        }
        return try job.dumpC()
    }
}
