import COpenAIModel

@c @implementation
public func om_list_models(_ model: OpaquePointer?,
                           _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> om_status {
    Boundary.run(model, out: out_json, what: "out_json") { (m, call) throws(OMError) in
        try ModelsEndpoint.list(m, call).dumpC()
    }
}
