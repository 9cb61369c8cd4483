import COpenAIModel
import Glibc

@c @implementation
public func om_status_str(_ status: om_status) -> UnsafePointer<CChar>? {
    statusText(status)
}

@c @implementation
public func om_create(_ options: UnsafePointer<om_options>?,
                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> om_status {
    guard let out else {
        LastError.set("om_create: out is NULL")
        return OM_EINVAL
    }
    out.pointee = nil
    do throws(OMError) {
        let config = try Config.make(options)
        let model = try Model(config: config)
        out.pointee = Handles.register(model)
        LastError.set("ok")
        return OM_OK
    } catch {
        LastError.set("om_create: " + error.message)
        return Boundary.status(error)
    }
}

@c @implementation
public func om_free(_ model: OpaquePointer?) {
    Handles.remove(model)
}

@c @implementation
public func om_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}

@c @implementation
public func om_errmsg(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let m = Handles.lookup(model) else {
        return model == nil ? StaticStrings.c("the handle is NULL") : StaticStrings.c("not a live handle")
    }
    guard let st = m.threadState(), let msg = st.message else { return StaticStrings.c("ok") }
    return UnsafePointer(msg)
}

@c @implementation
public func om_errcode(_ model: OpaquePointer?) -> om_status {
    guard let m = Handles.lookup(model) else { return OM_EINVAL }
    return m.threadState()?.status ?? OM_OK
}

@c @implementation
public func om_errdetail(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let p = Handles.lookup(model)?.threadState()?.detail else { return nil }
    return UnsafePointer(p)
}

@c @implementation
public func om_last_error() -> UnsafePointer<CChar>? {
    LastError.get() ?? StaticStrings.c("ok")
}

@c @implementation
public func om_last_request_id(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let p = Handles.lookup(model)?.threadState()?.requestID else { return nil }
    return UnsafePointer(p)
}

@c @implementation
public func om_last_response(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let m = Handles.lookup(model), let st = m.threadState() else { return nil }
    return st.responseCString(secret: m.config.apiKey)
}

@c @implementation
public func om_last_http_status(_ model: OpaquePointer?) -> Int32 {
    Handles.lookup(model)?.threadState()?.httpStatus ?? 0
}

@c @implementation
public func om_cancel(_ model: OpaquePointer?) -> om_status {
    guard let m = Handles.lookup(model) else { return OM_EINVAL }
    m.cancel()
    return OM_OK
}
