import Glibc
import Synchronization

/// One entry of a dialogue.
struct DialogueEntry: Sendable, Equatable {
    var role: String
    var content: String
    var sentiment: String?

    /// The entry as one compact JSON line's text (what `json()` dumps to).
    func appendLine(to out: inout [UInt8]) {
        func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        raw("{\"role\":")
        JSONText.appendString(role, to: &out)
        raw(",\"content\":")
        JSONText.appendString(content, to: &out)
        if let sentiment {
            raw(",\"sentiment\":")
            JSONText.appendString(sentiment, to: &out)
        }
        raw("}\n")
    }

    func json() throws(OMError) -> JSON {
        let o = try JSON.object()
        try o.set("role", role)
        try o.set("content", content)
        if let sentiment { try o.set("sentiment", sentiment) }
        return o
    }
}

/// A handle's dialogue: in memory, and appended to a JSON Lines file (one
/// entry per line) after each exchange.
///
/// An assistant reply's sentiment is worked out when it is first needed:
/// at once when the entry goes to the file, else when the dialogue is first
/// read with its sentiments (om_dialogue). A handle that keeps its dialogue
/// in memory does not score replies nobody looks at.
///
/// Saving appends the new lines with one write(2) on a file opened with
/// O_APPEND: its cost is the new entries only, and a process killed at any
/// moment leaves every complete line readable. A torn last line (from a
/// crash mid-write, or a full disk) is skipped when the file is read, and the
/// next append starts on a fresh line.
final class DialogueStore: @unchecked Sendable {
    private struct State {
        var entries: [DialogueEntry] = []
        /// Indices of assistant entries whose sentiment is still to be found.
        var unscored: [Int] = []
        var loaded = false
        var fd: Int32 = -1
    }
    private let state = Locked(State())
    /// nil: memory only.
    let path: String?
    private static let counter = Atomic<Int>(0)

    init(config: Config) {
        if config.noDialogueFile {
            path = nil
        } else if let p = config.dialogueFile {
            path = Files.resolve(p, in: config.dataDir)
        } else {
            path = config.dataDir + "/" + DialogueStore.defaultName()
        }
    }

    deinit {
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
    }

    /// dialogue-YYYYmmdd-HHMMSS-<pid>-<n>.jsonl: unique per handle.
    static func defaultName() -> String {
        var t = time(nil)
        var tmv = tm()
        localtime_r(&t, &tmv)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let n = counter.add(1, ordering: .relaxed).newValue
        return "dialogue-\(tmv.tm_year + 1900)\(two(tmv.tm_mon + 1))\(two(tmv.tm_mday))-"
            + "\(two(tmv.tm_hour))\(two(tmv.tm_min))\(two(tmv.tm_sec))-\(Sys.pid())-\(n).jsonl"
    }

    /// The entries so far (loading an existing file on first use). With
    /// `sentiments` false, replies not scored yet are returned without one
    /// (for callers that read only roles and contents).
    func entries(sentiments: Bool = true) throws(OMError) -> [DialogueEntry] {
        try state.withLock { st in
            Result { () throws(OMError) -> [DialogueEntry] in
                try loadIfNeeded(&st)
                if sentiments && !st.unscored.isEmpty {
                    for i in st.unscored { st.entries[i].sentiment = DialogueStore.sentiment(st.entries[i].content) }
                    st.unscored.removeAll()
                }
                return st.entries
            }
        }.get()
    }

    static func sentiment(_ text: String) -> String { SentimentAnalyzer.classify(text).rawValue }

    /// Appends an exchange: to memory always, to the file when there is one.
    /// A file error is reported after the entries are in memory, so nothing
    /// the server answered is lost. Assistant entries without a sentiment
    /// get one (see above).
    func append(_ new: [DialogueEntry]) throws(OMError) {
        try state.withLock { st in
            Result { () throws(OMError) in
                try? loadIfNeeded(&st)
                var new = new
                for k in new.indices where new[k].role == "assistant" && new[k].sentiment == nil {
                    if path != nil {
                        new[k].sentiment = DialogueStore.sentiment(new[k].content)
                    } else {
                        st.unscored.append(st.entries.count + k)
                    }
                }
                st.entries.append(contentsOf: new)
                guard let path else { return }
                var bytes: [UInt8] = []
                for e in new { e.appendLine(to: &bytes) }
                do throws(OMError) {
                    if st.fd < 0 { st.fd = try openForAppend(path) }
                    try Files.writeAll(st.fd, bytes, path: path)
                } catch {
                    throw .io("the reply was received, but the dialogue file could not be written (\(error.message)); "
                              + "the exchange is kept in memory (om_dialogue)")
                }
            }
        }.get()
    }

    private func loadIfNeeded(_ st: inout State) throws(OMError) {
        guard !st.loaded else { return }
        st.loaded = true
        guard let path, Files.exists(path) else { return }
        st.entries = try DialogueStore.read(path)
    }

    /// Reads a dialogue file; lines that are not complete entries are skipped.
    static func read(_ path: String) throws(OMError) -> [DialogueEntry] {
        let bytes = try Files.readAll(path, what: "dialogue file", limit: 1 << 30)
        var out: [DialogueEntry] = []
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 10 {
            if i > start, let e = entry(bytes[start..<i]) { out.append(e) }
            start = i + 1
        }
        // A last line without its newline is a torn write: ignored.
        return out
    }

    private static func entry(_ line: ArraySlice<UInt8>) -> DialogueEntry? {
        guard let j = try? line.withUnsafeBytes({ b in Result { () throws(OMError) in try JSON.parse(b, what: "line") } }).get(),
              let role = j["role"]?.string, let content = j["content"]?.string else { return nil }
        return DialogueEntry(role: role, content: content, sentiment: j["sentiment"]?.string)
    }

    /// Opens the file for appending (mode 0600, folder created), making sure
    /// the next write starts on a fresh line. Only a regular file is
    /// accepted: the open does not block (a FIFO without a reader would hang
    /// the call), and anything but a regular file is refused.
    private func openForAppend(_ path: String) throws(OMError) -> Int32 {
        try Files.makeDirectories(Files.dirname(path))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
        if fd < 0 {
            let e = errno
            if e == ENXIO { throw .io("dialogue file '\(path)' is not a regular file") }
            throw Files.openError("dialogue file", path, e)
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .io("dialogue file '\(path)' is not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        if st.st_size > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, st.st_size - 1) == 1, last != 10 {
                let nl: [UInt8] = [10]
                do throws(OMError) { try Files.writeAll(fd, nl, path: path) } catch { close(fd); throw error }
            }
        }
        return fd
    }
}
