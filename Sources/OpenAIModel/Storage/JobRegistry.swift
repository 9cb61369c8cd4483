import Glibc

/// The job registry: a JSON array of {"id", "description", "created"} in a
/// file (the original's save_job_id format).
///
/// Every save takes an exclusive lock (flock on "<file>.lock"), reads the
/// array, writes the array with the new entry to a temporary file in the
/// same folder, fsyncs it and renames it over the registry. A crash at any
/// moment leaves either the old or the new file, never a partial one; two
/// processes saving at once both keep their entries. The temporary file of a
/// writer killed mid-save is removed by the next save. A registry that is
/// not a JSON array is reported and left untouched.
enum JobRegistry {
    static func save(path: String, id: String, description: String?, created: Int64) throws(OMError) {
        let dir = Files.dirname(path)
        try Files.makeDirectories(dir)
        let lockPath = path + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if lock < 0 { throw .io("job registry lock '\(lockPath)': \(Sys.errnoText(errno))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            if errno != EINTR { throw .io("cannot lock the job registry '\(lockPath)': \(Sys.errnoText(errno))") }
        }
        defer { _ = flock(lock, LOCK_UN) }
        removeStaleTemporaries(path)

        let entries = try read(path: path)
        let entry = try JSON.object()
        try entry.set("id", id)
        try entry.set("description", JSON.stringOrNull(description))
        try entry.set("created", Int(created))
        try entries.append(entry)
        var text = try entries.dumpPretty()
        text.append(10)

        let tmp = "\(path).tmp-\(Sys.pid())-\(Sys.randomHex(6))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw .io("cannot create '\(tmp)': \(Sys.errnoText(errno))") }
        do throws(OMError) {
            try Files.writeAll(fd, text, path: tmp)
            if fsync(fd) != 0 { throw .io("cannot sync '\(tmp)': \(Sys.errnoText(errno))") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        if rename(tmp, path) != 0 {
            let e = errno
            unlink(tmp)
            throw .io("cannot replace the job registry '\(path)': \(Sys.errnoText(e))")
        }
        Files.syncDirectory(dir)
    }

    /// Removes "<registry>.tmp-*" files. Called under the lock: a writer
    /// holds the lock for as long as its temporary file exists, so any such
    /// file found then was left by a writer that died (killed mid-save).
    static func removeStaleTemporaries(_ path: String) {
        let dir = Files.dirname(path)
        let prefix = Array((Files.basename(path) + ".tmp-").utf8)
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        var stale: [String] = []
        while let e = readdir(d) {
            let name: [UInt8] = withUnsafeBytes(of: e.pointee.d_name) { raw in
                let b = raw.bindMemory(to: UInt8.self)
                return Array(b.prefix(while: { $0 != 0 }))
            }
            if name.count > prefix.count && name.starts(with: prefix) {
                stale.append(dir + "/" + String(decoding: name, as: UTF8.self))
            }
        }
        for f in stale { unlink(f) }
    }

    /// The registry's entries; an empty array when the file does not exist.
    static func read(path: String) throws(OMError) -> JSON {
        guard Files.exists(path) else { return try JSON.array() }
        let bytes = try Files.readAll(path, what: "job registry")
        if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) { return try JSON.array() }
        let j: JSON
        do throws(OMError) {
            j = try JSON.parse(bytes, what: "job registry '\(path)'")
        } catch {
            throw .data("\(error.message); the file was left as it is")
        }
        guard j.isArray else {
            throw .data("job registry '\(path)' is not a JSON array; the file was left as it is")
        }
        return j
    }
}
