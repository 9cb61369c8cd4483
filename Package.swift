// swift-tools-version:6.2
import PackageDescription

// The release library exports only the om_* functions of include/openaimodel.h
// (linker version script) and carries the soname libopenaimodel.so.1. It is
// never unloaded (-z nodelete): threads that called it hold thread-specific
// values whose destructors are its code, run when those threads end, and
// libcurl's global state lives as long as the process; a host's dlclose
// would leave them pointing at unmapped memory.
let exportFlags: [LinkerSetting] = [
    .unsafeFlags([
        "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/openaimodel.map",
        "-Xlinker", "-soname=libopenaimodel.so.1",
        "-Xlinker", "-z", "-Xlinker", "nodelete",
    ]),
]

// The library uses neither Swift concurrency nor regular expressions: not
// importing those modules implicitly keeps libswift_Concurrency, libdispatch,
// libswift_StringProcessing and libswift_RegexParser out of the libraries
// loaded with it (a faster load: see the README's Benchmarks section).
let leanRuntime: [SwiftSetting] = [
    .unsafeFlags([
        "-Xfrontend", "-disable-implicit-concurrency-module-import",
        "-Xfrontend", "-disable-implicit-string-processing-module-import",
    ]),
]

let package = Package(
    name: "openaimodel",
    products: [
        .library(name: "openaimodel", type: .dynamic, targets: ["OpenAIModel"]),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CJansson", path: "Sources/CJansson", pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]),
        // The C contract: header-only, rooted at the top-level include/.
        .target(name: "COpenAIModel", path: "include", publicHeadersPath: "."),
        .target(
            name: "OpenAIModel",
            dependencies: ["COpenAIModel", "CCurl", "CJansson"],
            swiftSettings: leanRuntime,
            linkerSettings: exportFlags),
        .testTarget(name: "OpenAIModelTests", dependencies: ["OpenAIModel"]),
    ]
)
