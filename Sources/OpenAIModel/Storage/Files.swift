import Glibc

/// File-system helpers with the library's error messages.
enum Files {
    /// Creates a folder and its parents (mode 0700 for new ones).
    static func makeDirectories(_ path: String) throws(OMError) {
        guard !path.isEmpty else { return }
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 {
                let e = errno
                if e == EEXIST {
                    var st = stat()
                    if stat(current, &st) == 0 && (st.st_mode & S_IFMT) != S_IFDIR {
                        throw .io("cannot create folder '\(path)': '\(current)' exists and is not a folder")
                    }
                    continue
                }
                throw .io("cannot create folder '\(path)': \(Sys.errnoText(e))")
            }
        }
    }

    /// The error for a failed open/stat of `path`, in the library's words.
    static func openError(_ what: String, _ path: String, _ e: Int32) -> OMError {
        switch e {
        case ENOENT, ENOTDIR: return .noFile("\(what) '\(path)': no such file")
        case EISDIR: return .data("\(what) '\(path)' is a folder, not a file")
        default: return .io("\(what) '\(path)': \(Sys.errnoText(e))")
        }
    }

    /// Writes all of `bytes` to fd, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(OMError) {
        var off = 0
        while off < bytes.count {
            let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot write '\(path)': \(Sys.errnoText(errno))")
            }
            off += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(OMError) {
        try bytes.withUnsafeBytes { b in Result { () throws(OMError) in try writeAll(fd, b, path: path) } }.get()
    }

    /// Reads a whole (small) file. Refuses folders, FIFOs and devices, and
    /// files larger than `limit`.
    static func readAll(_ path: String, what: String, limit: Int = 256 * 1024 * 1024) throws(OMError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw openError(what, path, errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io("\(what) '\(path)': \(Sys.errnoText(errno))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .data("\(what) '\(path)' is a folder, not a file") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw .data("\(what) '\(path)' is not a regular file") }
        if st.st_size > limit { throw .data("\(what) '\(path)' is larger than \(limit) bytes") }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while true {
            if got == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: 65536)) }
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .io("\(what) '\(path)': \(Sys.errnoText(errno))")
            }
            if n == 0 { break }
            got += n
            if got > limit { throw .data("\(what) '\(path)' is larger than \(limit) bytes") }
        }
        out.removeSubrange(got...)
        return out
    }

    /// Whether a path exists (without following a final symlink's target).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// The folder part of a path ("." when there is none).
    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[path.startIndex..<slash])
    }

    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `name` inside `dir` unless it is already absolute.
    static func resolve(_ name: String, in dir: String) -> String {
        name.hasPrefix("/") ? name : dir + "/" + name
    }

    /// fsync on a folder, so a rename inside it is durable.
    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }
}
