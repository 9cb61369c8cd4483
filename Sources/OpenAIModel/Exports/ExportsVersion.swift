import COpenAIModel

@c @implementation
public func om_version() -> UnsafePointer<CChar>? {
    StaticStrings.version
}

@c @implementation
public func om_version_number() -> UInt32 {
    UInt32(OM_VERSION_NUMBER)
}
