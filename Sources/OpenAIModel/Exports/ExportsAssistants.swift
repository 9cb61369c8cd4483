import COpenAIModel

@c @implementation
public func om_list_assistants(_ model: OpaquePointer?,
                               _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, _) throws(OMError) in
        try AssistantsFile.list(m.config.assistantsFile).dumpC()
    }
}

@c @implementation
public func om_set_assistant(_ model: OpaquePointer?, _ assistant_id: UnsafePointer<CChar>?) -> om_status {
    Boundary.run(model) { (m, call) throws(OMError) in
        let id = try Sys.requiredUTF8(assistant_id, what: "assistant_id")
        try m.setAssistant(id, call)
    }
}
