import Glibc

/// Response headers: names lower-cased, in arrival order.
struct HeaderList: Sendable {
    var items: [(name: String, value: String)] = []

    subscript(name: String) -> String? {
        for h in items where h.name == name { return h.value }
        return nil
    }
}

/// When to try again and how long to wait first: the rules of the official
/// SDK (see the README's transport section).
enum RetryPolicy {
    /// Longest server-requested wait that is obeyed, in seconds.
    static let maxServerDelay = 120.0

    /// Whether an HTTP error response may be retried.
    static func shouldRetry(status: Int, headers: HeaderList, errorType: String?, errorCode: String?) -> Bool {
        switch headers["x-should-retry"]?.lowercasedASCII() {
        case "true": return true
        case "false": return false
        default: break
        }
        if status == 429 && (errorCode == "insufficient_quota" || errorType == "insufficient_quota") {
            return false
        }
        return status == 408 || status == 409 || status == 429 || status >= 500
    }

    /// The wait before retry number `retriesSoFar + 1`, in seconds: the
    /// server's `retry-after-ms` or `retry-after` when it lies in (0, 120],
    /// else min(0.5 * 2^n, 8) reduced by up to 25 % of jitter.
    static func delay(headers: HeaderList, retriesSoFar: Int, now: Int64, random: Double) -> Double {
        if let s = serverDelay(headers: headers, now: now) { return s }
        return backoff(retriesSoFar: retriesSoFar, random: random)
    }

    static func backoff(retriesSoFar: Int, random: Double) -> Double {
        let n = min(max(retriesSoFar, 0), 16)
        let base = min(0.5 * Double(1 << n), 8.0)
        let r = min(max(random, 0), 1)
        return base * (1 - 0.25 * r)
    }

    /// The delay the server asked for, if it is usable.
    static func serverDelay(headers: HeaderList, now: Int64) -> Double? {
        if let ms = headers["retry-after-ms"].flatMap(parseNumber), ms > 0, ms / 1000 <= maxServerDelay {
            return ms / 1000
        }
        if let ra = headers["retry-after"] {
            if let s = parseNumber(ra) {
                if s > 0 && s <= maxServerDelay { return s }
            } else if let t = parseHTTPDate(ra) {
                let s = Double(t - now)
                if s > 0 && s <= maxServerDelay { return s }
            }
        }
        return nil
    }

    /// A non-negative decimal number ("1", "0.25", " 2 "); nil otherwise.
    static func parseNumber(_ text: String) -> Double? {
        let t = text.trimmedWhitespace()
        guard !t.isEmpty, t.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }),
              t.utf8.filter({ $0 == 46 }).count <= 1, t.utf8.first != 46 || t.utf8.count > 1 else { return nil }
        guard let d = Double(t), d.isFinite else { return nil }
        return d
    }

    /// An HTTP date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
    /// "Sunday, 06-Nov-94 08:49:37 GMT" or asctime "Sun Nov  6 08:49:37
    /// 1994") as epoch seconds.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "-" }).map { String($0) }
        var day: Int?, month: Int?, year: Int?, clock: [Int]?
        for p in parts.dropFirst() {
            let lower = p.lowercasedASCII()
            if let m = months.firstIndex(of: String(lower.prefix(3))), lower.count >= 3, Int(p) == nil {
                month = m
            } else if p.contains(":") {
                let c = p.split(separator: ":").compactMap { Int($0) }
                if c.count == 3 { clock = c }
            } else if let n = Int(p) {
                // In all three formats the first number is the day, the second the year.
                if day == nil { day = n } else if year == nil { year = n }
            }
        }
        guard let d = day, let m = month, var y = year, let c = clock,
              d >= 1, d <= 31, c[0] >= 0, c[0] < 24, c[1] >= 0, c[1] < 60, c[2] >= 0, c[2] <= 60 else { return nil }
        if y < 100 { y += y < 70 ? 2000 : 1900 }
        guard y >= 1970, y < 10000 else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900)
        tmv.tm_mon = Int32(m)
        tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(c[0])
        tmv.tm_min = Int32(c[1])
        tmv.tm_sec = Int32(c[2])
        let t = timegm(&tmv)
        return t < 0 ? nil : Int64(t)
    }
}

/// Reads an API error out of a response.
enum APIErrorParser {
    /// Builds the error for a non-2xx response. Tolerates any body: OpenAI's
    /// {"error": {...}}, a bare {"message": ...}, an {"error": "text"} string,
    /// HTML or nothing.
    static func parse(status: Int, headers: HeaderList, body: [UInt8], secret: String?) -> APIErrorInfo {
        let requestID = headers["x-request-id"]
        let rawBody = Secrets.scrub(String(decoding: body.prefix(64 * 1024), as: UTF8.self), secret)
        var info = APIErrorInfo(httpStatus: status, type: nil, code: nil, param: nil,
                                message: "", requestID: requestID, body: rawBody)
        if let json = try? JSON.parse(body, what: "error body"), json.isObject {
            let err = json["error"]
            let obj = (err?.isObject == true) ? err : json
            if let obj {
                info.type = obj["type"]?.scalarText
                info.code = obj["code"]?.scalarText
                info.param = obj["param"]?.scalarText
                info.message = obj["message"]?.scalarText ?? ""
            }
            if info.message.isEmpty, let s = err?.string { info.message = s }
            if info.message.isEmpty, let s = json["detail"]?.scalarText { info.message = s }
        }
        if info.message.isEmpty {
            let ctype = headers["content-type"] ?? "no content type"
            if body.isEmpty {
                info.message = "the server answered HTTP \(status) with an empty body"
            } else {
                var snippet = String(decoding: body.prefix(200), as: UTF8.self)
                snippet = String(snippet.map { $0.isNewline ? " " : $0 })
                info.message = "the server answered HTTP \(status) with a non-JSON body (\(ctype)): \(snippet)"
            }
        }
        if (300..<400).contains(status) {
            info.message += (headers["location"].map { " (redirected to \($0); set the base URL to the final address)" }
                             ?? " (unexpected redirect)")
        }
        info.message = Secrets.scrub(info.message, secret)
        info.type = info.type.map { Secrets.scrub($0, secret) }
        info.code = info.code.map { Secrets.scrub($0, secret) }
        info.param = info.param.map { Secrets.scrub($0, secret) }
        return info
    }
}
