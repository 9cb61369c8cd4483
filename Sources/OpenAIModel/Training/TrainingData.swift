import Glibc

/// Where training data comes from.
enum TrainingSource {
    case text(String)
    case file(String)
    case folder(String)
}

/// What conversion found, for the job's description and the logs.
struct TrainingStats {
    var examples = 0
    var estimatedTokens = 0
    var largestExampleTokens = 0
    var files = 0
}

/// Turns training data into a chat fine-tuning JSONL file, validating every
/// example as it goes. Nothing here touches the network.
///
/// CSV columns are matched by name, case-insensitively:
/// - prompt: prompt, input, question, user; completion: completion, output,
///   answer, assistant; optional system: system. Each row is one example
///   system -> user -> assistant.
/// - text: text, document, content; optional label: label, sentiment. Each
///   row is a labelled example: the user message is the text, the reply its
///   label, or "positive"/"negative" from the `positive` flag.
final class TrainingBuilder {
    static let promptNames = ["prompt", "input", "question", "user"]
    static let completionNames = ["completion", "output", "answer", "assistant"]
    static let textNames = ["text", "document", "content"]
    static let labelNames = ["label", "sentiment"]
    static let minimumExamples = 10
    static let maxListedErrors = 10

    let out: JSONLWriter
    let defaultSystem: String?
    let positive: Bool
    var stats = TrainingStats()
    var errors: [String] = []
    /// (done, total) bytes of input read; returns false to stop.
    var progress: ((Int64, Int64) -> Bool)?
    private var progressDone: Int64 = 0
    private var progressTotal: Int64 = -1

    init(out: JSONLWriter, defaultSystem: String?, positive: Bool) {
        self.out = out
        self.defaultSystem = defaultSystem
        self.positive = positive
    }

    /// The CSV files a source names (a folder's *.csv, sorted by name).
    static func files(in folder: String) throws(OMError) -> [String] {
        guard let dir = opendir(folder) else {
            let e = errno
            if e == ENOTDIR { throw .data("data_dir '\(folder)' is a file, not a folder") }
            throw Files.openError("data_dir", folder, e)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw -> String in
                let b = raw.bindMemory(to: UInt8.self)
                let n = b.firstIndex(of: 0) ?? b.count
                return String(decoding: b[0..<n], as: UTF8.self)
            }
            if name.lowercasedASCII().hasSuffix(".csv"), !name.hasPrefix(".") { names.append(name) }
        }
        names.sort()
        if names.isEmpty { throw .data("data_dir '\(folder)' holds no .csv files") }
        return names.map { folder + "/" + $0 }
    }

    /// Converts everything the source holds.
    func add(_ source: TrainingSource) throws(OMError) {
        switch source {
        case .text(let t):
            progressTotal = Int64(t.utf8.count)
            var r = CSVReader(text: t, name: "CSV data")
            try addCSV(&r)
        case .file(let p):
            progressTotal = Self.size(p)
            var r = try CSVReader.open(path: p)
            try addCSV(&r)
        case .folder(let d):
            let paths = try Self.files(in: d)
            progressTotal = paths.reduce(Int64(0)) { $0 + max(Self.size($1), 0) }
            for p in paths {
                var r = try CSVReader.open(path: p)
                try addCSV(&r)
                if errors.count >= Self.maxListedErrors { break }
            }
        }
    }

    static func size(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : -1
    }

    private enum Mode { case pairs(prompt: Int, completion: Int, system: Int?), labelled(text: Int, label: Int?) }

    /// Maps the header row to a mode, or explains what is wrong with it.
    private func mode(_ r: inout CSVReader) throws(OMError) -> Mode? {
        guard try r.next() else { return nil }  // empty file: no examples
        var prompt: Int?, completion: Int?, system: Int?, text: Int?, label: Int?
        var unknown: [String] = []
        for i in 0..<r.fieldCount {
            let name = r.field(i).trimmedWhitespace().lowercased()
            func take(_ slot: inout Int?, _ what: String) throws(OMError) {
                if slot != nil { throw .data("\(r.name):\(r.line):\(i + 1): a second \(what) column '\(name)'") }
                slot = i
            }
            if Self.promptNames.contains(name) { try take(&prompt, "prompt") }
            else if Self.completionNames.contains(name) { try take(&completion, "completion") }
            else if name == "system" { try take(&system, "system") }
            else if Self.textNames.contains(name) { try take(&text, "text") }
            else if Self.labelNames.contains(name) { try take(&label, "label") }
            else { unknown.append("column \(i + 1) '\(name)'") }
        }
        let accepted = "prompt/input/question/user + completion/output/answer/assistant (+ system), "
            + "or text/document/content (+ label/sentiment)"
        if !unknown.isEmpty {
            throw .data("\(r.name):\(r.line): unknown \(unknown.joined(separator: ", ")); the columns understood are \(accepted)")
        }
        if let p = prompt, let c = completion {
            if text != nil { throw .data("\(r.name):\(r.line): both prompt/completion and text columns; use one layout") }
            if label != nil { throw .data("\(r.name):\(r.line): a label column belongs with a text column, not with prompt/completion") }
            return .pairs(prompt: p, completion: c, system: system)
        }
        if let t = text {
            if prompt != nil || completion != nil {
                throw .data("\(r.name):\(r.line): both prompt/completion and text columns; use one layout")
            }
            return .labelled(text: t, label: label)
        }
        if prompt != nil { throw .data("\(r.name):\(r.line): a prompt column without a completion column; \(accepted)") }
        if completion != nil { throw .data("\(r.name):\(r.line): a completion column without a prompt column; \(accepted)") }
        throw .data("\(r.name):\(r.line): no training columns; the columns understood are \(accepted)")
    }

    func addCSV(_ r: inout CSVReader) throws(OMError) {
        stats.files += 1
        guard let mode = try mode(&r) else { return }
        let headerCount = r.fieldCount
        let task = positive ? "positive" : "negative"
        while try r.next() {
            if let progress {
                let now = progressDone + r.bytesRead
                if !progress(now, progressTotal) { throw .cancelled("stopped by the progress callback") }
            }
            if r.fieldCount != headerCount {
                throw .data("\(r.name):\(r.line): \(r.fieldCount) fields where the header has \(headerCount)")
            }
            switch mode {
            case .pairs(let p, let c, let s):
                try example(&r, system: s, user: p, assistant: c, fixedAssistant: nil, labelTask: false)
            case .labelled(let t, let l):
                try example(&r, system: nil, user: t, assistant: l, fixedAssistant: l == nil ? task : nil, labelTask: true)
            }
            if errors.count >= Self.maxListedErrors { break }
        }
        progressDone += r.bytesRead
    }

    private static func blank(_ b: UnsafeRawBufferPointer) -> Bool {
        b.allSatisfy { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
    }

    /// Writes one example from the current row, or records why it is not
    /// valid.
    private func example(_ r: inout CSVReader, system: Int?, user: Int, assistant: Int?, fixedAssistant: String?,
                         labelTask: Bool) throws(OMError) {
        // Check first, so a bad row writes nothing.
        for i in [user, assistant].compactMap({ $0 }) {
            let empty = try r.withField(i) { (b) throws(OMError) -> Bool in Self.blank(b) }
            if empty {
                errors.append("\(r.name):\(r.line): column \(i + 1) is empty")
                return
            }
        }
        var tokens = 0
        try out.raw("{\"messages\":[")
        var systemWritten = false
        if let s = system {
            let has = try r.withField(s) { (b) throws(OMError) -> Bool in
                if Self.blank(b) { return false }
                try out.raw("{\"role\":\"system\",\"content\":")
                try out.string(b)
                try out.raw("},")
                tokens += Self.tokens(b.count)
                return true
            }
            systemWritten = has
        }
        if !systemWritten {
            let text: String?
            if labelTask {
                text = fixedAssistant != nil
                    ? "Label the sentiment of the text. Answer with one word: positive or negative."
                    : "Label the text. Answer with its label only."
            } else {
                text = defaultSystem
            }
            if let text {
                try out.raw("{\"role\":\"system\",\"content\":")
                try out.string(text)
                try out.raw("},")
                tokens += Self.tokens(text.utf8.count)
            }
        }
        try out.raw("{\"role\":\"user\",\"content\":")
        try r.withField(user) { (b) throws(OMError) in
            try out.string(b)
            tokens += Self.tokens(b.count)
        }
        try out.raw("},{\"role\":\"assistant\",\"content\":")
        if let fixedAssistant {
            try out.string(fixedAssistant)
            tokens += 1
        } else if let assistant {
            try r.withField(assistant) { (b) throws(OMError) in
                try out.string(b)
                tokens += Self.tokens(b.count)
            }
        }
        try out.raw("}]}\n")
        stats.examples += 1
        stats.estimatedTokens += tokens
        stats.largestExampleTokens = max(stats.largestExampleTokens, tokens)
    }

    /// Writes one example from a dialogue.
    func add(system: String?, user: String, assistant: String, origin: String) throws(OMError) {
        if user.trimmedWhitespace().isEmpty { errors.append("\(origin): the user message is empty"); return }
        if assistant.trimmedWhitespace().isEmpty { errors.append("\(origin): the assistant reply is empty"); return }
        try out.raw("{\"messages\":[")
        var tokens = 0
        if let system, !system.trimmedWhitespace().isEmpty {
            try out.raw("{\"role\":\"system\",\"content\":")
            try out.string(system)
            try out.raw("},")
            tokens += Self.tokens(system.utf8.count)
        }
        try out.raw("{\"role\":\"user\",\"content\":")
        try out.string(user)
        try out.raw("},{\"role\":\"assistant\",\"content\":")
        try out.string(assistant)
        try out.raw("}]}\n")
        tokens += Self.tokens(user.utf8.count) + Self.tokens(assistant.utf8.count)
        stats.examples += 1
        stats.estimatedTokens += tokens
        stats.largestExampleTokens = max(stats.largestExampleTokens, tokens)
    }

    /// A rough token count: about four bytes of English per token, plus the
    /// few tokens each message costs.
    static func tokens(_ bytes: Int) -> Int { (bytes + 3) / 4 + 4 }

    /// The verdict: enough examples and no invalid ones.
    func finish() throws(OMError) -> TrainingStats {
        try out.flush()
        if !errors.isEmpty {
            let more = errors.count >= Self.maxListedErrors ? " (first \(Self.maxListedErrors) shown)" : ""
            throw .data("training data rejected, nothing was uploaded; invalid examples\(more): "
                        + errors.joined(separator: "; "))
        }
        if stats.examples < Self.minimumExamples {
            throw .data("training data has \(stats.examples) example\(stats.examples == 1 ? "" : "s"); "
                        + "fine-tuning needs at least \(Self.minimumExamples); nothing was uploaded")
        }
        return stats
    }
}
