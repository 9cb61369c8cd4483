import COpenAIModel

@c @implementation
public func om_ask(_ model: OpaquePointer?, _ message: UnsafePointer<CChar>?,
                   _ system_instruction: UnsafePointer<CChar>?, _ attempts: Int32,
                   _ out_reply: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_reply, what: "out_reply") { (m, call) throws(OMError) in
        let text = try Sys.requiredUTF8(message, what: "message")
        let system = try Sys.optionalUTF8(system_instruction, what: "system_instruction")
        return try Boundary.cString(m.ask(text, system: system, attempts: Int(attempts), call))
    }
}

@c @implementation
public func om_ask_stream(_ model: OpaquePointer?, _ message: UnsafePointer<CChar>?,
                          _ system_instruction: UnsafePointer<CChar>?, _ attempts: Int32,
                          _ on_delta: om_stream_cb?, _ userdata: UnsafeMutableRawPointer?,
                          _ out_reply: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_reply, what: "out_reply") { (m, call) throws(OMError) in
        let text = try Sys.requiredUTF8(message, what: "message")
        let system = try Sys.optionalUTF8(system_instruction, what: "system_instruction")
        let reply = try m.askStream(text, system: system, attempts: Int(attempts), call) { p, n in
            guard let on_delta else { return true }
            return on_delta(p, n, userdata) == 0
        }
        return try Boundary.cString(reply)
    }
}

@c @implementation
public func om_determine_sentiment(_ text: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let text else { return StaticStrings.c("neutral") }
    // Invalid UTF-8 is read with replacement characters: sentiment never fails.
    switch SentimentAnalyzer.classify(String(cString: text)) {
    case .positive: return StaticStrings.c("positive")
    case .negative: return StaticStrings.c("negative")
    case .neutral: return StaticStrings.c("neutral")
    }
}

@c @implementation
public func om_dialogue(_ model: OpaquePointer?,
                        _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, _) throws(OMError) in
        let arr = try JSON.array()
        for e in try m.dialogue.entries() { try arr.append(e.json()) }
        return try arr.dumpC()
    }
}
