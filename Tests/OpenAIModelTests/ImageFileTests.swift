import Glibc
import Testing

@testable import OpenAIModel

private let pngHead: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
private let jpegHead: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46]
private let webpHead: [UInt8] = Array("RIFF".utf8) + [0x24, 0x00, 0x00, 0x00] + Array("WEBPVP8 ".utf8)

private func sniff(_ b: [UInt8]) -> ImageType? { b.withUnsafeBytes { ImageType.sniff($0) } }

/// The error `ImageFile.open` throws for `path`, or nil if it opened.
private func openError(_ path: String) -> OMError? {
    do {
        _ = try ImageFile.open(path)
        return nil
    } catch {
        return error
    }
}

@Suite struct ImageFileTests {
    @Test func sniffing() {
        #expect(sniff(pngHead) == .png)
        #expect(sniff(jpegHead) == .jpeg)
        #expect(sniff([0xFF, 0xD8, 0xFF]) == .jpeg)
        #expect(sniff(Array("GIF87a".utf8)) == .gif)
        #expect(sniff(Array("GIF89a\u{1}\u{0}".utf8)) == .gif)
        #expect(sniff(webpHead) == .webp)
        // Too short or wrong.
        #expect(sniff([]) == nil)
        #expect(sniff(Array(pngHead[0..<7])) == nil)
        #expect(sniff([0xFF, 0xD8]) == nil)
        #expect(sniff(Array("GIF88a".utf8)) == nil)
        #expect(sniff(Array("GIF8".utf8)) == nil)
        #expect(sniff(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WAVE".utf8)) == nil)
        #expect(sniff(Array("RIFF".utf8) + [1, 2, 3, 4] + Array("WEB".utf8)) == nil)
        #expect(sniff(Array("<html>".utf8)) == nil)
        #expect(ImageType.png.mime == "image/png")
        #expect(ImageType.jpeg.mime == "image/jpeg")
        #expect(ImageType.gif.mime == "image/gif")
        #expect(ImageType.webp.mime == "image/webp")
        #expect(ImageType.jpeg.rawValue == "jpeg")
    }

    @Test func opensEachType() throws {
        let dir = TempDir()
        let cases: [(String, [UInt8], ImageType)] = [
            ("a.png", pngHead + [UInt8](repeating: 7, count: 100), .png),
            ("a.jpg", jpegHead, .jpeg),
            ("a.gif", Array("GIF89a".utf8) + [0, 1, 0, 1], .gif),
            ("a87.gif", Array("GIF87a".utf8), .gif),
            ("a.webp", webpHead, .webp),
            ("png-named.jpg", pngHead, .png),  // the content decides, not the name
            ("noext", jpegHead, .jpeg),
        ]
        for (name, bytes, type) in cases {
            let path = dir.write(name, bytes)
            let img = try ImageFile.open(path)
            #expect(img.type == type, "\(name)")
            #expect(img.size == Int64(bytes.count))
            #expect(img.path == path)
            #expect(img.fd >= 0)
            // The descriptor is blocking and close-on-exec.
            #expect(fcntl(img.fd, F_GETFL) & O_NONBLOCK == 0)
            #expect(fcntl(img.fd, F_GETFD) & FD_CLOEXEC != 0)
            // It can be streamed.
            var s = Base64FileStream(fd: img.fd, size: img.size)
            var out = [UInt8](repeating: 0, count: Int(s.encodedSize))
            let n = try out.withMutableBytes { (b) throws(OMError) in try s.read(into: b) }
            #expect(Base64.decode(Array(out[0..<n])) == bytes)
        }
        // A symlink to an image opens the image.
        let target = dir.write("t.png", pngHead)
        #expect(symlink(target, dir.file("link.png")) == 0)
        #expect(try ImageFile.open(dir.file("link.png")).type == .png)
    }

    @Test func missingFiles() {
        let dir = TempDir()
        let missing = dir.file("nope.png")
        #expect(openError(missing) == .noFile("image '\(missing)': no such file"))
        let noParent = dir.file("no/such/dir/x.png")
        #expect(openError(noParent) == .noFile("image '\(noParent)': no such file"))
        // A dangling symlink.
        let dangling = dir.file("dangling.png")
        #expect(symlink(dir.file("gone.png"), dangling) == 0)
        #expect(openError(dangling) == .noFile("image '\(dangling)': no such file"))
        // A path under a regular file (ENOTDIR).
        let file = dir.write("plain.png", pngHead)
        #expect(openError(file + "/x") == .noFile("image '\(file)/x': no such file"))
    }

    @Test func folderEmptyUnknown() {
        let dir = TempDir()
        let folder = dir.file("folder.png")
        #expect(mkdir(folder, 0o755) == 0)
        #expect(openError(folder) == .data("image '\(folder)' is a folder, not a file"))
        let empty = dir.write("empty.png", [])
        #expect(openError(empty) == .data("image '\(empty)' is empty"))
        let html = dir.write("page.png", "<html><body>not an image</body></html>")
        #expect(
            openError(html)
                == .data("image '\(html)': not a PNG, JPEG, GIF or WebP file (first bytes: 3c 68 74 6d)"))
        let tiny = dir.write("tiny.png", [0x01, 0x02])
        #expect(
            openError(tiny)
                == .data("image '\(tiny)': not a PNG, JPEG, GIF or WebP file (first bytes: 01 02)"))
        #expect(openError("") == .invalidArgument("image path is empty"))
        if case .invalidArgument = openError("a\u{0}b.png") {} else {
            Issue.record("a NUL byte in the path must be rejected")
        }
    }

    @Test func fifoDoesNotBlock() {
        let dir = TempDir()
        let fifo = dir.file("pipe.png")
        #expect(mkfifo(fifo, 0o644) == 0)
        let t0 = monotonicSeconds()
        #expect(openError(fifo) == .data("image '\(fifo)' is not a regular file"))
        #expect(monotonicSeconds() - t0 < 2)
        // Also through a symlink.
        #expect(symlink(fifo, dir.file("pipe-link.png")) == 0)
        #expect(openError(dir.file("pipe-link.png")) == .data("image '\(dir.file("pipe-link.png"))' is not a regular file"))
    }

    @Test func deviceIsNotARegularFile() {
        #expect(openError("/dev/null") == .data("image '/dev/null' is not a regular file"))
    }

    @Test func symlinkLoop() {
        let dir = TempDir()
        let a = dir.file("a.png")
        let b = dir.file("b.png")
        #expect(symlink(b, a) == 0)
        #expect(symlink(a, b) == 0)
        #expect(openError(a) == .io("image '\(a)': too many levels of symbolic links"))
    }

    @Test func unreadable() throws {
        let dir = TempDir()
        let path = dir.write("secret.png", pngHead)
        #expect(chmod(path, 0o000) == 0)
        if geteuid() == 0 {
            // Root bypasses permission checks: the file opens.
            #expect(try ImageFile.open(path).type == .png)
        } else {
            #expect(openError(path) == .io("image '\(path)': permission denied"))
        }
        // A folder without search permission hides its files (again not for root).
        let locked = dir.file("locked")
        #expect(mkdir(locked, 0o755) == 0)
        let inner = dir.write("locked/x.png", pngHead)
        #expect(chmod(locked, 0o000) == 0)
        if geteuid() != 0 {
            #expect(openError(inner) == .io("image '\(inner)': permission denied"))
        }
        chmod(locked, 0o755)
    }

    @Test func descriptorClosedOnDeinit() throws {
        let dir = TempDir()
        let path = dir.write("c.png", pngHead)
        var fd: Int32 = -1
        do {
            let img = try ImageFile.open(path)
            fd = img.fd
            #expect(fcntl(fd, F_GETFD) >= 0)
        }
        // Other tests run in parallel and may reuse the number, so only check
        // that the descriptor, if open, is not our file any more (or is closed).
        if fcntl(fd, F_GETFD) >= 0 {
            var a = stat()
            var b = stat()
            fstat(fd, &a)
            stat(path, &b)
            #expect(a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        }
    }
}
