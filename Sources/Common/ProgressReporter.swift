import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress of a long piece of work on standard error, the same for every command (import, features, backtest,
/// training): on a terminal a one-line bar redrawn in place (done/total, rate, time left); when standard error is
/// not a terminal (a log, CI), a plain line every `interval` seconds. Nothing at all for work that ends within
/// `delay` seconds (default 1, or `AITRADER_PROGRESS_DELAY` seconds), so quick runs stay quiet;
/// `ProgressReporter.disabled` for `--quiet`.
///
///     var progress = ProgressReporter("backtest EURUSD", total: bars.count, unit: "bars")
///     for i in 0 ..< bars.count { ...; progress.step() }
///     progress.finish()
///     // terminal:   backtest EURUSD [##########          ]  52% 520000/1000000 bars, 1.2M bars/s, 0.4 s left
///     // otherwise:  backtest EURUSD: 52% (520000/1000000 bars), 1.2M bars/s, 0.4 s left
public struct ProgressReporter: Sendable {
    public enum Style: Sendable { case terminal, lines, off }

    public let label: String
    public private(set) var total: Int
    public let unit: String
    public let style: Style
    public let delay: Double
    public let interval: Double
    public private(set) var done = 0
    private let started: Double
    private var nextCheck = 1
    private var lastReport: Double
    private var shown = false
    /// Writes a rendered line (standard error by default; tests capture it).
    private let write: @Sendable (String) -> Void

    /// `style` nil: a bar when standard error is a terminal, else lines — or nothing once `silenceAll()` was called
    /// (the CLI's global `--quiet`).
    public init(_ label: String, total: Int, unit: String = "", style: Style? = nil, delay: Double? = nil,
                interval: Double = 5, write: @escaping @Sendable (String) -> Void = { writeError($0) }) {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.style = style ?? (Self.silenced.value ? .off : (isatty(2) != 0 ? .terminal : .lines))
        self.delay = delay ?? ProcessInfo.processInfo.environment["AITRADER_PROGRESS_DELAY"].flatMap(Double.init) ?? 1
        self.interval = interval
        self.write = write
        started = Self.now()
        lastReport = started
    }

    /// A reporter that reports nothing.
    public static let disabled = ProgressReporter("", total: 0, style: .off)

    /// From now on, reporters made without an explicit style report nothing (`--quiet`).
    public static func silenceAll() { silenced.set(true) }

    private static let silenced = Flag()

    private final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var on = false
        var value: Bool { lock.withLock { on } }
        func set(_ v: Bool) { lock.withLock { on = v } }
    }

    /// One more item done. Cheap: the clock is read at most every 1/1000 of the total (and every item after).
    @inline(__always) public mutating func step(_ count: Int = 1) {
        done += count
        if done >= nextCheck { check() }
    }

    /// The total, once it is known (a reporter made before the work was counted).
    public mutating func retotal(_ newTotal: Int) {
        total = max(newTotal, 0)
        nextCheck = done + 1
    }

    /// Sets the count of items done.
    public mutating func update(done newValue: Int) {
        done = newValue
        if done >= nextCheck { check() }
    }

    /// The work ended: a final report (only when something was shown, or the lines style passed its delay).
    public mutating func finish() {
        guard style != .off else { return }
        done = max(done, total)
        if shown || Self.now() - started >= delay {
            report(final: true)
        }
    }

    private mutating func check() {
        nextCheck = done + max(1, total / 1000)
        guard style != .off else { return }
        let t = Self.now()
        guard t - started >= delay, done < total else { return }   // the end is reported by finish()
        let wait = style == .terminal ? 0.1 : interval
        if !shown || t - lastReport >= wait { report(final: false) }
    }

    private mutating func report(final: Bool) {
        let now = Self.now()
        lastReport = now
        shown = true
        let elapsed = now - started
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var detail = "\(done)/\(total)" + (unit.isEmpty ? "" : " " + unit)
        if rate > 0 { detail += ", " + Self.compact(rate) + (unit.isEmpty ? "" : " " + unit) + "/s" }
        if final {
            detail += String(format: ", %.1f s", elapsed)
        } else if rate > 0, total > done {
            detail += ", " + Self.duration(Double(total - done) / rate) + " left"
        }
        let percent = String(format: "%3d%%", Int(fraction * 100))
        switch style {
        case .terminal:
            let width = 20, filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            write("\r\u{1B}[2K\(label) [\(bar)] \(percent) \(detail)" + (final ? "\n" : ""))
        case .lines:
            write("\(label): \(percent.trimmingCharacters(in: .whitespaces)) (\(detail))\n")
        case .off:
            break
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// 1234567 -> "1.2M".
    static func compact(_ x: Double) -> String {
        if x >= 1e9 { return String(format: "%.1fG", x / 1e9) }
        if x >= 1e6 { return String(format: "%.1fM", x / 1e6) }
        if x >= 1e4 { return String(format: "%.0fk", x / 1e3) }
        return String(format: x >= 100 ? "%.0f" : "%.1f", x)
    }

    /// Seconds as "4.2 s", "3 min 10 s", "2 h 05 min".
    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        if s < 60 { return String(format: "%.1f s", s) }
        if s < 3600 { return "\(Int(s) / 60) min \(Int(s) % 60) s" }
        return String(format: "%d h %02d min", Int(s) / 3600, (Int(s) % 3600) / 60)
    }
}
