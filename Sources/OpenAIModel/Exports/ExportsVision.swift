import COpenAIModel

@c @implementation
public func om_describe_image(_ model: OpaquePointer?, _ image: UnsafePointer<CChar>?,
                              _ prompt: UnsafePointer<CChar>?, _ system_instruction: UnsafePointer<CChar>?,
                              _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        let path = try Sys.requiredUTF8(image, what: "image")
        let p = try Sys.optionalUTF8(prompt, what: "prompt")
        let s = try Sys.optionalUTF8(system_instruction, what: "system_instruction")
        let reply = try VisionEndpoint.describe(m, call, image: path, prompt: p, system: s)
        return try ReplyJSON.extract(reply).dumpC()
    }
}

@c @implementation
public func om_describe_image_text(_ model: OpaquePointer?, _ image: UnsafePointer<CChar>?,
                                   _ prompt: UnsafePointer<CChar>?, _ system_instruction: UnsafePointer<CChar>?,
                                   _ out_text: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_text, what: "out_text") { (m, call) throws(OMError) in
        let path = try Sys.requiredUTF8(image, what: "image")
        let p = try Sys.optionalUTF8(prompt, what: "prompt")
        let s = try Sys.optionalUTF8(system_instruction, what: "system_instruction")
        return try Boundary.cString(VisionEndpoint.describe(m, call, image: path, prompt: p, system: s))
    }
}
