import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Structured, levelled logging to standard error, so that standard output stays clean for data and JSON.
///
///     Log.info("imported bars", ["symbol": "EURUSD", "rows": "5000"])
///     // 2026-11-26T11:20:03Z INFO imported bars symbol=EURUSD rows=5000
///
/// The level comes from `AITRADER_LOG` (`debug`, `info`, `warning`, `error`; default `info`) and can be
/// changed with `Log.level`.
public enum Log {
    public enum Level: Int, Comparable, Sendable {
        case debug = 0, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var label: String {
            switch self {
            case .debug: "DEBUG"
            case .info: "INFO"
            case .warning: "WARN"
            case .error: "ERROR"
            }
        }
    }

    private static let state = LogState()

    /// The minimum level that is printed.
    public static var level: Level {
        get { state.level }
        set { state.level = newValue }
    }

    public static func debug(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) {
        emit(.debug, message(), fields)
    }
    public static func info(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) {
        emit(.info, message(), fields)
    }
    public static func warning(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) {
        emit(.warning, message(), fields)
    }
    public static func error(_ message: @autoclosure () -> String, _ fields: [String: String] = [:]) {
        emit(.error, message(), fields)
    }

    static func emit(_ lvl: Level, _ message: String, _ fields: [String: String]) {
        guard lvl >= state.level else { return }
        var line = "\(isoNow()) \(lvl.label) \(message)"
        for key in fields.keys.sorted() {
            let value = fields[key]!
            line += value.contains(" ") ? " \(key)=\"\(value)\"" : " \(key)=\(value)"
        }
        line += "\n"
        state.write(line)
    }

    private static func isoNow() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// Mutable logging state behind a lock (logging is called from any thread or task).
final class LogState: @unchecked Sendable {
    private let lock = NSLock()
    private var _level: Log.Level

    init() {
        switch ProcessInfo.processInfo.environment["AITRADER_LOG"]?.lowercased() {
        case "debug": _level = .debug
        case "warning", "warn": _level = .warning
        case "error": _level = .error
        default: _level = .info
        }
    }

    var level: Log.Level {
        get { lock.lock(); defer { lock.unlock() }; return _level }
        set { lock.lock(); _level = newValue; lock.unlock() }
    }

    func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Writes a message to standard error unchanged (for command-line error reports).
public func writeError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
