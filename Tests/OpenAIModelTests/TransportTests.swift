import Testing
import COpenAIModel
@testable import OpenAIModel

private func headers(_ pairs: [(String, String)]) -> HeaderList {
    HeaderList(items: pairs.map { (name: $0.0, value: $0.1) })
}

@Suite struct RetryDecision {
    @Test(arguments: [408, 409, 429, 500, 502, 503, 504, 599])
    func retriedStatuses(_ status: Int) {
        #expect(RetryPolicy.shouldRetry(status: status, headers: HeaderList(), errorType: nil, errorCode: nil))
    }

    @Test(arguments: [400, 401, 403, 404, 410, 422])
    func finalStatuses(_ status: Int) {
        #expect(!RetryPolicy.shouldRetry(status: status, headers: HeaderList(), errorType: nil, errorCode: nil))
    }

    @Test func shouldRetryHeaderWins() {
        #expect(!RetryPolicy.shouldRetry(status: 500, headers: headers([("x-should-retry", "false")]),
                                         errorType: nil, errorCode: nil))
        #expect(RetryPolicy.shouldRetry(status: 400, headers: headers([("x-should-retry", "true")]),
                                        errorType: nil, errorCode: nil))
        #expect(RetryPolicy.shouldRetry(status: 500, headers: headers([("x-should-retry", "maybe")]),
                                        errorType: nil, errorCode: nil))
    }

    @Test func insufficientQuotaIsFinal() {
        #expect(!RetryPolicy.shouldRetry(status: 429, headers: HeaderList(), errorType: "insufficient_quota", errorCode: nil))
        #expect(!RetryPolicy.shouldRetry(status: 429, headers: HeaderList(), errorType: nil, errorCode: "insufficient_quota"))
        #expect(RetryPolicy.shouldRetry(status: 429, headers: HeaderList(), errorType: "requests", errorCode: "rate_limit_exceeded"))
    }
}

@Suite struct RetryDelay {
    @Test func backoffDoublesUpToEightSeconds() {
        #expect(RetryPolicy.backoff(retriesSoFar: 0, random: 0) == 0.5)
        #expect(RetryPolicy.backoff(retriesSoFar: 1, random: 0) == 1.0)
        #expect(RetryPolicy.backoff(retriesSoFar: 3, random: 0) == 4.0)
        #expect(RetryPolicy.backoff(retriesSoFar: 4, random: 0) == 8.0)
        #expect(RetryPolicy.backoff(retriesSoFar: 10, random: 0) == 8.0)
        #expect(RetryPolicy.backoff(retriesSoFar: 1000, random: 0) == 8.0)
        #expect(RetryPolicy.backoff(retriesSoFar: -5, random: 0) == 0.5)
    }

    @Test func jitterTakesUpToAQuarter() {
        #expect(RetryPolicy.backoff(retriesSoFar: 0, random: 1) == 0.375)
        #expect(RetryPolicy.backoff(retriesSoFar: 2, random: 0.5) == 1.75)
        #expect(RetryPolicy.backoff(retriesSoFar: 2, random: 7) == 1.5)  // clamped
    }

    @Test func retryAfterMsFirst() {
        let h = headers([("retry-after-ms", "250"), ("retry-after", "3")])
        #expect(RetryPolicy.delay(headers: h, retriesSoFar: 0, now: 0, random: 0) == 0.25)
    }

    @Test func retryAfterSecondsAndDecimals() {
        #expect(RetryPolicy.delay(headers: headers([("retry-after", "3")]), retriesSoFar: 0, now: 0, random: 0) == 3)
        #expect(RetryPolicy.delay(headers: headers([("retry-after", "1.5")]), retriesSoFar: 0, now: 0, random: 0) == 1.5)
    }

    @Test func outOfRangeServerDelaysFallBackToBackoff() {
        for v in ["0", "121", "-1", "abc", "", "1e3", "NaN", "inf", ".", "1.2.3"] {
            #expect(RetryPolicy.delay(headers: headers([("retry-after", v)]), retriesSoFar: 1, now: 0, random: 0) == 1.0,
                    "retry-after \(v)")
            let ms = v == "121" ? "120001" : v
            #expect(RetryPolicy.delay(headers: headers([("retry-after-ms", ms)]), retriesSoFar: 1, now: 0, random: 0) == 1.0,
                    "retry-after-ms \(ms)")
        }
        #expect(RetryPolicy.delay(headers: headers([("retry-after", "120")]), retriesSoFar: 0, now: 0, random: 0) == 120)
    }

    @Test func httpDates() {
        // 1994-11-06 08:49:37 UTC
        let t: Int64 = 784_111_777
        #expect(RetryPolicy.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == t)
        #expect(RetryPolicy.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == t)
        #expect(RetryPolicy.parseHTTPDate("Sun Nov  6 08:49:37 1994") == t)
        #expect(RetryPolicy.parseHTTPDate("yesterday") == nil)
        #expect(RetryPolicy.parseHTTPDate("Sun, 32 Nov 1994 08:49:37 GMT") == nil)
        #expect(RetryPolicy.parseHTTPDate("Sun, 06 Foo 1994 08:49:37 GMT") == nil)
        #expect(RetryPolicy.parseHTTPDate("") == nil)
        let h = headers([("retry-after", "Sun, 06 Nov 1994 08:49:47 GMT")])
        #expect(RetryPolicy.delay(headers: h, retriesSoFar: 0, now: t, random: 0) == 10)
        // A date in the past: the computed backoff.
        #expect(RetryPolicy.delay(headers: h, retriesSoFar: 0, now: t + 100, random: 0) == 0.5)
    }
}

@Suite struct ErrorBodies {
    @Test func openAIShape() {
        let body = Array(#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#.utf8)
        let info = APIErrorParser.parse(status: 429, headers: headers([("x-request-id", "req_1")]), body: body, secret: nil)
        #expect(info.message == "Rate limit reached")
        #expect(info.type == "requests")
        #expect(info.code == "rate_limit_exceeded")
        #expect(info.param == nil)
        #expect(info.requestID == "req_1")
        #expect(info.summary.contains("HTTP 429"))
    }

    @Test func otherShapes() {
        let numeric = APIErrorParser.parse(status: 400, headers: HeaderList(),
                                           body: Array(#"{"error":{"message":"bad","code":400}}"#.utf8), secret: nil)
        #expect(numeric.code == "400")
        let flat = APIErrorParser.parse(status: 400, headers: HeaderList(), body: Array(#"{"message":"flat"}"#.utf8), secret: nil)
        #expect(flat.message == "flat")
        let str = APIErrorParser.parse(status: 500, headers: HeaderList(), body: Array(#"{"error":"plain"}"#.utf8), secret: nil)
        #expect(str.message == "plain")
        let html = APIErrorParser.parse(status: 502, headers: headers([("content-type", "text/html")]),
                                        body: Array("<html>\nBad gateway</html>".utf8), secret: nil)
        #expect(html.message.contains("non-JSON"))
        #expect(html.message.contains("text/html"))
        let empty = APIErrorParser.parse(status: 503, headers: HeaderList(), body: [], secret: nil)
        #expect(empty.message.contains("empty body"))
        let redirect = APIErrorParser.parse(status: 307, headers: headers([("location", "https://x.example/v1")]),
                                            body: [], secret: nil)
        #expect(redirect.message.contains("https://x.example/v1"))
    }

    @Test func keyIsScrubbed() {
        let key = "sk-proj-abcdefghijklmnopqrstuvwxyz"
        let body = Array("{\"error\":{\"message\":\"Incorrect API key provided: \(key)\"}}".utf8)
        let info = APIErrorParser.parse(status: 401, headers: HeaderList(), body: body, secret: key)
        #expect(!info.message.contains(key))
        #expect(!info.body.contains(key))
    }
}

@Suite struct BaseURLs {
    @Test func normalisation() throws {
        #expect(try BaseURL.parse("https://api.openai.com/v1").string == "https://api.openai.com/v1")
        #expect(try BaseURL.parse("https://api.openai.com/v1/").string == "https://api.openai.com/v1")
        #expect(try BaseURL.parse("http://localhost:11434").string == "http://localhost:11434/v1")
        #expect(try BaseURL.parse("HTTP://LocalHost:8080/api/v1//").string == "http://localhost:8080/api/v1")
        #expect(try BaseURL.parse("http://[::1]:8000").string == "http://[::1]:8000/v1")
        #expect(try BaseURL.parse("http://[::1]:8000").isLoopback)
        #expect(try BaseURL.parse("http://127.0.0.2/v1").isLoopback)
        #expect(try !BaseURL.parse("http://10.0.0.1/v1").isLoopback)
        #expect(try BaseURL.parse("http://localhost:8080").isLoopback)
        #expect(try BaseURL.parse("http://127.255.0.1/v1").isLoopback)
        // Names that only look like loopback addresses go wherever DNS says.
        #expect(try !BaseURL.parse("http://127.0.0.1.example.com/v1").isLoopback)
        #expect(try !BaseURL.parse("http://127.attacker.example/v1").isLoopback)
        #expect(try !BaseURL.parse("http://api.localhost/v1").isLoopback)
        #expect(try !BaseURL.parse("http://localhost.example.com/v1").isLoopback)
        #expect(try !BaseURL.parse("http://127.0.0.300/v1").isLoopback)
    }

    @Test(arguments: ["api.openai.com", "ftp://x/v1", "http://", "http://host:99999", "http://host:port",
                      "http://user:pw@host/v1", "https://h/v1?x=1", "https://h/#f", "http://[::1"])
    func rejected(_ text: String) {
        #expect(throws: OMError.self) { try BaseURL.parse(text) }
    }
}

@Suite struct JSONLayer {
    @Test func parseAndRead() throws {
        let j = try JSON.parse(#"{"a":1,"b":[true,null,"x"],"c":{"d":2.5},"s":"h\u00e9"}"#, what: "t")
        #expect(j["a"]?.int == 1)
        #expect(j["b"]?.count == 3)
        #expect(j["b"]?[0]?.bool == true)
        #expect(j["b"]?[1]?.isNull == true)
        #expect(j["b"]?[2]?.string == "x")
        #expect(j["b"]?[3] == nil)
        #expect(j["b"]?[-1] == nil)
        #expect(j["c"]?["d"]?.double == 2.5)
        #expect(j["s"]?.string == "hé")
        #expect(j["missing"] == nil)
        #expect(j["a"]?.string == nil)  // wrong type: nil, not a trap
        #expect(j["a"]?["x"] == nil)
    }

    @Test func membersKeepFileOrder() throws {
        let j = try JSON.parse(#"{"z":1,"a":2,"m":3}"#, what: "t")
        #expect(j.members.map(\.key) == ["z", "a", "m"])
    }

    @Test func buildAndDump() throws {
        let o = try JSON.object()
        try o.set("text", "quote \" backslash \\ newline \n nul-free é")
        try o.set("n", 3)
        let a = try JSON.array()
        try a.append("x")
        try o.set("list", a)
        let back = try JSON.parse(o.dump(), what: "t")
        #expect(back["text"]?.string == "quote \" backslash \\ newline \n nul-free é")
        #expect(back["n"]?.int == 3)
        #expect(back["list"]?[0]?.string == "x")
    }

    @Test func errorsAreTyped() throws {
        #expect(throws: OMError.self) { try JSON.parse("{", what: "t") }
        #expect(throws: OMError.self) { try JSON.parse("", what: "t") }
        let invalid: [UInt8] = [0x61, 0xff, 0x62]
        #expect(throws: OMError.self) { try invalid.withUnsafeBytes { b in Result { () throws(OMError) in try JSON.string(bytes: b) } }.get() }
        #expect(try JSON.string(bytes: UnsafeRawBufferPointer(start: nil, count: 0)).string == "")
    }

    @Test func scalarsParse() throws {
        #expect(try JSON.parse("42", what: "t").int == 42)
        #expect(try JSON.parse("\"s\"", what: "t").string == "s")
    }

    @Test func prefixParsing() throws {
        let j = try JSON.parsePrefix(Array(#"{"k":[1,2]} and some text"#.utf8))
        #expect(j["k"]?.count == 2)
    }
}

@Suite struct StatusMapping {
    @Test func everyErrorHasItsStatus() {
        func api(_ s: Int) -> OMError {
            .api(APIErrorInfo(httpStatus: s, type: nil, code: nil, param: nil, message: "", requestID: nil, body: ""))
        }
        #expect(Boundary.status(.invalidArgument("")) == OM_EINVAL)
        #expect(Boundary.status(.outOfMemory) == OM_ENOMEM)
        #expect(Boundary.status(.io("")) == OM_EIO)
        #expect(Boundary.status(.noFile("")) == OM_ENOFILE)
        #expect(Boundary.status(.data("")) == OM_EDATA)
        #expect(Boundary.status(.network("")) == OM_ENETWORK)
        #expect(Boundary.status(.timeout("")) == OM_ETIMEDOUT)
        #expect(Boundary.status(.cancelled("")) == OM_ECANCELLED)
        #expect(Boundary.status(.parse("")) == OM_EPARSE)
        #expect(Boundary.status(.unsupported("")) == OM_EUNSUPPORTED)
        #expect(Boundary.status(.notFound("")) == OM_ENOTFOUND)
        #expect(Boundary.status(.internalError("")) == OM_EINTERNAL)
        #expect(Boundary.status(api(400)) == OM_EAPI)
        #expect(Boundary.status(api(401)) == OM_EAUTH)
        #expect(Boundary.status(api(403)) == OM_EPERMISSION)
        #expect(Boundary.status(api(404)) == OM_ENOTFOUND)
        #expect(Boundary.status(api(410)) == OM_ENOTFOUND)
        #expect(Boundary.status(api(409)) == OM_EAPI)
        #expect(Boundary.status(api(422)) == OM_EAPI)
        #expect(Boundary.status(api(429)) == OM_ERATELIMIT)
        #expect(Boundary.status(api(500)) == OM_ESERVER)
        #expect(Boundary.status(api(307)) == OM_EAPI)
    }

    @Test func secretsMasked() {
        let key = "sk-proj-0123456789abcdef"
        #expect(!Secrets.scrub("key \(key) here \(key)", key).contains(key))
        #expect(Secrets.scrub("nothing", key) == "nothing")
        #expect(Secrets.scrub("x", nil) == "x")
        #expect(Secrets.mask(key) == "sk-***ef")
    }
}
