import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The secret that resets a tripped `KillSwitch`, read from a file (only the owner may read it) or from an
/// environment variable. The token is held privately and compared in constant time; it never appears in a
/// description, an error, a log line or the kill switch's file — `description` says only where it came from.
///
///     let auth = try KillSwitchAuthorization.fromFile("/etc/aitrader/kill-switch.token")   // mode 0600
///     let auth = try KillSwitchAuthorization.fromEnvironment("AITRADER_KILL_SWITCH_TOKEN")
///     print(auth)             // "kill-switch token from environment variable AITRADER_KILL_SWITCH_TOKEN"
public struct KillSwitchAuthorization: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let token: [UInt8]
    /// Where the token came from ("file /path", "environment variable NAME"); never the token.
    public let source: String

    /// Reads the token from `path`: the file must exist, be readable only by its owner (no group or other
    /// permission bits) and hold a token of at least 16 characters (surrounding whitespace is ignored).
    public static func fromFile(_ path: String) throws(KillSwitchError) -> KillSwitchAuthorization {
        let data: Data
        do { data = try PrivateFile.read(path) } catch {
            switch error {
            case .cannotStat(let why): throw .authorizationUnavailable("the token file \(path) cannot be read: \(why)")
            case .readableByOthers(let mode):
                throw .authorizationUnavailable("the token file \(path) is readable by others (mode \(mode)); chmod 600 it")
            default: throw .authorizationUnavailable("the token file \(path) cannot be read")
            }
        }
        return try make(Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8),
                        source: "file \(path)")
    }

    /// Reads the token from the environment variable `name`.
    public static func fromEnvironment(_ name: String,
                                       environment: [String: String] = ProcessInfo.processInfo.environment) throws(KillSwitchError) -> KillSwitchAuthorization {
        guard let value = environment[name] else {
            throw .authorizationUnavailable("the environment variable \(name) is not set")
        }
        return try make(Array(value.trimmingCharacters(in: .whitespacesAndNewlines).utf8), source: "environment variable \(name)")
    }

    private static func make(_ token: [UInt8], source: String) throws(KillSwitchError) -> KillSwitchAuthorization {
        guard token.count >= 16 else {
            throw .authorizationUnavailable("the kill-switch token from \(source) is shorter than 16 characters")
        }
        return KillSwitchAuthorization(token: token, source: source)
    }

    private init(token: [UInt8], source: String) {
        self.token = token
        self.source = source
    }

    /// True when `candidate` is the token; the comparison takes the same time wherever the first difference lies.
    public func accepts(_ candidate: String) -> Bool {
        let c = Array(candidate.utf8)
        var difference = UInt8(c.count == token.count ? 0 : 1)
        for i in 0..<token.count { difference |= token[i] ^ (i < c.count ? c[i] : 0) }
        return difference == 0
    }

    public var description: String { "kill-switch token from \(source)" }
    public var debugDescription: String { description }
}
