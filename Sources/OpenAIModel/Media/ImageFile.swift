import Glibc

/// The image types the API accepts, recognised by their first bytes (never by
/// the file name's extension).
enum ImageType: String, Sendable {
    case png, jpeg, gif, webp

    var mime: String {
        switch self {
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .gif: return "image/gif"
        case .webp: return "image/webp"
        }
    }

    /// Bytes needed to recognise every type.
    static let sniffLength = 12

    /// PNG: 89 50 4E 47 0D 0A 1A 0A; JPEG: FF D8 FF; GIF: "GIF87a"/"GIF89a";
    /// WebP: "RIFF" <4-byte size> "WEBP". nil for anything else.
    static func sniff(_ head: UnsafeRawBufferPointer) -> ImageType? {
        let n = head.count
        func at(_ i: Int, _ bytes: [UInt8]) -> Bool {
            if i < 0 || bytes.count > n - i { return false }
            for (k, b) in bytes.enumerated() where head[i + k] != b { return false }
            return true
        }
        if at(0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if at(0, [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if at(0, [0x47, 0x49, 0x46, 0x38]) && (at(4, [0x37, 0x61]) || at(4, [0x39, 0x61])) {
            return .gif
        }
        if at(0, [0x52, 0x49, 0x46, 0x46]) && at(8, [0x57, 0x45, 0x42, 0x50]) { return .webp }
        return nil
    }
}

/// An open image file whose type was recognised. The descriptor is closed
/// exactly once, when the object goes away.
///
/// A final class rather than a ~Copyable struct: requests take several images
/// (an array of them), and the upload code keeps them in the context object a
/// libcurl callback reaches.
final class ImageFile: Sendable {
    let fd: Int32
    let size: Int64
    let type: ImageType
    let path: String

    private init(fd: Int32, size: Int64, type: ImageType, path: String) {
        self.fd = fd
        self.size = size
        self.type = type
        self.path = path
    }

    deinit {
        _ = Glibc.close(fd)
    }

    /// How messages name this file: `image '<path>'`.
    var displayName: String { "image '\(path)'" }

    /// Opens `path` read-only (it must be a regular file; opening cannot block
    /// on a FIFO), reads its first bytes and recognises the type. Errors name
    /// the path and the reason (see `RegularFile.open`), plus
    /// `OMError.data` for an empty file or an unknown type.
    static func open(_ path: String) throws(OMError) -> ImageFile {
        let what = "image"
        let (fd, size) = try RegularFile.open(path, what: what)
        var head = [UInt8](repeating: 0, count: ImageType.sniffLength)
        let got: Int
        do {
            got = try RegularFile.readFully(fd, into: &head, at: 0, what: what, path: path)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        if size == 0 || got == 0 {
            _ = Glibc.close(fd)
            throw .data("\(what) '\(path)' is empty")
        }
        let type = head.withUnsafeBytes { ImageType.sniff(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
        guard let type else {
            _ = Glibc.close(fd)
            let shown = head.prefix(min(got, 4)).map { hex($0) }.joined(separator: " ")
            throw .data(
                "\(what) '\(path)': not a PNG, JPEG, GIF or WebP file (first bytes: \(shown))")
        }
        return ImageFile(fd: fd, size: size, type: type, path: path)
    }

    private static func hex(_ b: UInt8) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7",
                                   "8", "9", "a", "b", "c", "d", "e", "f"]
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}

/// Opening local input files (images, CSV files) with uniform, path-naming
/// error messages.
enum RegularFile {
    private static let typeMask: mode_t = 0o170000
    private static let regularType: mode_t = 0o100000
    private static let directoryType: mode_t = 0o040000

    /// Opens `path` read-only and close-on-exec, and returns the descriptor and
    /// the size. `what` names the kind of file in messages ("image",
    /// "CSV file"):
    ///
    /// - empty path, or one with a NUL byte: `.invalidArgument`
    /// - missing (ENOENT, a dangling symlink, a missing parent, ENOTDIR):
    ///   `.noFile("<what> '<path>': no such file")`
    /// - EACCES/EPERM: `.io("<what> '<path>': permission denied")`
    /// - ELOOP: `.io("<what> '<path>': too many levels of symbolic links")`
    /// - a folder: `.data("<what> '<path>' is a folder, not a file")`
    /// - a FIFO, socket or device: `.data("<what> '<path>' is not a regular file")`
    /// - anything else: `.io("<what> '<path>': <strerror>")`
    ///
    /// The type is checked with stat before opening, so FIFOs and devices are
    /// never opened; the open uses O_NONBLOCK (cleared afterwards) and fstat
    /// checks again, so a path swapped in between cannot block or slip through.
    static func open(_ path: String, what: String) throws(OMError) -> (fd: Int32, size: Int64) {
        if path.isEmpty {
            throw .invalidArgument("\(what) path is empty")
        }
        if path.utf8.contains(0) {
            throw .invalidArgument("\(what) path '\(path)' contains a NUL byte")
        }
        var st = stat()
        if stat(path, &st) != 0 {
            throw failure(errno, what, path)
        }
        try checkType(st.st_mode, what, path)
        var fd: Int32 = -1
        repeat {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            let e = errno
            if e == ENXIO || e == EOPNOTSUPP {
                // A socket (or a device without a driver): not a regular file.
                throw .data("\(what) '\(path)' is not a regular file")
            }
            throw failure(e, what, path)
        }
        if fstat(fd, &st) != 0 {
            let e = errno
            _ = Glibc.close(fd)
            throw failure(e, what, path)
        }
        do {
            try checkType(st.st_mode, what, path)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 {
            _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        }
        return (fd, Int64(st.st_size))
    }

    private static func checkType(_ mode: mode_t, _ what: String, _ path: String) throws(OMError) {
        let type = mode & typeMask
        if type == directoryType {
            throw .data("\(what) '\(path)' is a folder, not a file")
        }
        if type != regularType {
            throw .data("\(what) '\(path)' is not a regular file")
        }
    }

    static func failure(_ e: Int32, _ what: String, _ path: String) -> OMError {
        switch e {
        case ENOENT, ENOTDIR:
            return .noFile("\(what) '\(path)': no such file")
        case EACCES, EPERM:
            return .io("\(what) '\(path)': permission denied")
        case ELOOP:
            return .io("\(what) '\(path)': too many levels of symbolic links")
        default:
            return .io("\(what) '\(path)': \(Sys.errnoText(e))")
        }
    }

    /// Reads up to `buf.count` bytes at `offset` (retrying short reads and
    /// EINTR); returns how many were read (fewer only at end of file).
    static func readFully(
        _ fd: Int32, into buf: inout [UInt8], at offset: Int64, what: String, path: String
    ) throws(OMError) -> Int {
        let (got, failure) = pread(fd, into: &buf, count: buf.count, at: offset)
        if failure != 0 {
            throw .io("\(what) '\(path)': read failed: \(Sys.errnoText(failure))")
        }
        return got
    }

    /// Reads up to `count` bytes at `offset` into the start of `buf`,
    /// retrying short reads and EINTR: how many were read (fewer only at end
    /// of file), and the errno of a failed read (else 0).
    static func pread(_ fd: Int32, into buf: inout [UInt8], count: Int, at offset: Int64) -> (Int, Int32) {
        var got = 0
        var failure: Int32 = 0
        buf.withUnsafeMutableBytes { b in
            guard let p = b.baseAddress else { return }
            let want = min(count, b.count)
            while got < want {
                let r = Glibc.pread(fd, p + got, want - got, off_t(offset + Int64(got)))
                if r > 0 {
                    got += r
                } else if r == 0 {
                    return
                } else {
                    let e = errno
                    if e == EINTR { continue }
                    failure = e
                    return
                }
            }
        }
        return (got, failure)
    }
}
