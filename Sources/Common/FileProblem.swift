import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file cannot be read, in the operating system's plain words (`no such file or directory`, `permission
/// denied`, `is a directory`) rather than Foundation's error codes (`NSCocoaErrorDomain Code=4`, `Code=260`).
///
///     FileProblem.reading("/no/such.csv")   // "no such file or directory"
///     FileProblem.reading("data")           // "is a directory, not a file"
public enum FileProblem {
    /// What stops `path` from being read; `fallback` when nothing obvious does (the read failed for another reason).
    public static func reading(_ path: String, fallback: String = "cannot be read") -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return systemText(errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "is a directory, not a file" }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return systemText(errno) }
        close(fd)
        return fallback
    }

    /// What stops `path` from being written: a missing or unwritable directory, or the file's own state.
    public static func writing(_ path: String, fallback: String = "cannot be written") -> String {
        let directory = (path as NSString).deletingLastPathComponent
        var info = stat()
        if !directory.isEmpty {
            guard stat(directory, &info) == 0 else { return "directory \(directory): " + systemText(errno) }
            if access(directory, W_OK) != 0 { return "directory \(directory): " + systemText(errno) }
        }
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return "is a directory, not a file" }
        return fallback
    }

    /// `strerror` in lower case: "no such file or directory".
    public static func systemText(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        guard let first = text.first else { return "error \(code)" }
        return first.lowercased() + text.dropFirst()
    }
}
