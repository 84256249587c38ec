import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A secret kept in a file only its owner may read (a token, broker credentials): the file is refused — before its
/// contents are read — when the group or others have any permission on it. Callers word the failure for their user.
///
///     do { let data = try PrivateFile.read("~/.aitrader/ks.token".expandingTilde) } catch .readableByOthers(let mode) { ... }
public enum PrivateFile {
    public enum Failure: Error, Equatable {
        /// `stat` failed (the reason, e.g. "No such file or directory").
        case cannotStat(String)
        /// Not a regular file (only with `strict`).
        case notRegularFile
        /// Group or other permission bits are set; `mode` in octal, e.g. "644".
        case readableByOthers(mode: String)
        /// Owned by another user (only with `strict`).
        case ownedByAnotherUser(uid: UInt32)
        /// The file could not be read (the reason).
        case cannotRead(String)
    }

    /// The file's bytes, once it has passed the checks. `strict` also asks for a regular file owned by the user
    /// running the process.
    public static func read(_ path: String, strict: Bool = false) throws(Failure) -> Data {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .cannotStat(String(cString: strerror(errno))) }
        if strict, info.st_mode & S_IFMT != S_IFREG { throw .notRegularFile }
        guard info.st_mode & 0o077 == 0 else { throw .readableByOthers(mode: String(info.st_mode & 0o777, radix: 8)) }
        if strict, info.st_uid != getuid() { throw .ownedByAnotherUser(uid: info.st_uid) }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .cannotRead(error.localizedDescription) }
    }
}
