#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// All-or-nothing file replacement: the bytes go to a temporary file in the destination's directory, which is
/// fsynced and then renamed over the destination (atomic on POSIX file systems), and the directory is fsynced so
/// the rename survives a crash. A reader sees the old file or the new one, never a mix; a failure at any step
/// removes the temporary file and leaves the old file untouched.
///
///     try AtomicFile.write(bytes, to: "/data/bars/EURUSD/1h.parquet")
///     // tests inject a failure between writing and renaming:
///     try AtomicFile.write(bytes, to: path, beforeRename: { throw TestFailure() })
public enum AtomicFile {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func write(_ bytes: [UInt8], to path: String,
                             beforeRename: (() throws -> Void)? = nil) throws(Error) {
        let directory = parentDirectory(of: path)
        try createDirectories(directory)
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let temp = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Error(path: temp, reason: "cannot create: \(errnoText())") }
        var closed = false
        func cleanUp() {
            if !closed { close(fd) }
            unlink(temp)
        }
        var written = 0
        let failure: String? = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = posixWrite(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "write failed after \(written) bytes: \(errnoText())"
                }
                written += n
            }
            return nil
        }
        if let failure {
            cleanUp()
            throw Error(path: temp, reason: failure)
        }
        guard fsync(fd) == 0 else {
            let reason = "fsync failed: \(errnoText())"
            cleanUp()
            throw Error(path: temp, reason: reason)
        }
        close(fd)
        closed = true
        if let beforeRename {
            do { try beforeRename() } catch {
                cleanUp()
                throw Error(path: path, reason: "aborted before rename: \(error)")
            }
        }
        guard rename(temp, path) == 0 else {
            let reason = "rename from \(temp) failed: \(errnoText())"
            cleanUp()
            throw Error(path: path, reason: reason)
        }
        syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// `mkdir -p`.
    public static func createDirectories(_ path: String) throws(Error) {
        guard !path.isEmpty else { return }
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw Error(path: current, reason: "cannot create directory: \(errnoText())")
            }
        }
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// fsync of a directory, so a rename or unlink in it survives a power loss (best effort: errors are ignored).
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#else
private let posixWrite = Darwin.write
#endif
