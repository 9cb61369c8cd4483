import Testing
import COpenAIModel
@testable import OpenAIModel

@Test func versionStringMatchesNumber() {
    #expect(String(cString: om_version()!) == "1.0.0")
    #expect(om_version_number() == 10000)
}
