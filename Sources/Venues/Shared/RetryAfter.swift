import Common
import MarketData
import Foundation

/// Reads a vendor's "come back later" headers into a bounded number of seconds. Header text is untrusted: `1e20`,
/// `inf`, `nan`, `-5`, a 40-digit number or a date in year 9999 must become a finite value in `0...maxSeconds`
/// (or nil when unreadable), never a trap in a later conversion to nanoseconds.
///
///     RetryAfter.seconds("120", now: t)                               // 120
///     RetryAfter.seconds("Wed, 21 Oct 2015 07:28:00 GMT", now: t)     // seconds from t to then, at least 0
///     RetryAfter.seconds("1e20", now: t)                              // RetryAfter.maxSeconds
public enum RetryAfter {
    /// One day: anything longer is clamped to it (and `RetryPolicy` refuses to wait that long anyway).
    public static let maxSeconds: Double = 86_400

    /// `Retry-After`: delay-seconds (RFC 9110; decimals accepted) or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
    public static func seconds(_ text: String, now: Double) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let v = Double(s) { return clamp(v) }
        guard let date = httpDate(s) else { return nil }
        return clamp(date - now)
    }

    /// `X-Ratelimit-Reset`: the Unix time (seconds) when the window resets.
    public static func resetSeconds(_ text: String, now: Double) -> Double? {
        guard let reset = Double(text.trimmingCharacters(in: .whitespaces)), reset.isFinite else { return nil }
        return clamp(reset - now)
    }

    /// Nanoseconds for `Task.sleep` of a computed delay: NaN and negatives are 0, anything above `maxSeconds`
    /// is `maxSeconds` (a plain `UInt64(seconds * 1e9)` traps on `inf` or values above 1.8e10 s).
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds, maxSeconds) * 1e9)
    }

    /// Finite, non-negative, at most `maxSeconds`; nil for NaN.
    static func clamp(_ v: Double) -> Double? {
        guard !v.isNaN else { return nil }
        return min(maxSeconds, max(0, v))
    }

    /// Unix seconds of an HTTP-date: `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT` or
    /// `Sun Nov  6 08:49:37 1994`. Nil for anything else (including out-of-range fields).
    static func httpDate(_ text: String) -> Double? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        var parts = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        guard parts.count >= 4, parts.count <= 6 else { return nil }
        parts.removeFirst()   // the weekday
        var day: Int?, month: Int?, year: Int?, clock: String?
        if parts.count == 3, parts[2].uppercased() == "GMT", parts[0].contains("-") {
            // RFC 850: 06-Nov-94
            let dmy = parts[0].split(separator: "-").map(String.init)
            guard dmy.count == 3 else { return nil }
            day = Int(dmy[0]); month = months.firstIndex(of: dmy[1].lowercased()).map { $0 + 1 }
            year = Int(dmy[2]).map { $0 < 70 ? 2000 + $0 : $0 < 100 ? 1900 + $0 : $0 }
            clock = parts[1]
        } else if parts.count == 5, parts[4].uppercased() == "GMT" {
            day = Int(parts[0]); month = months.firstIndex(of: parts[1].lowercased()).map { $0 + 1 }
            year = Int(parts[2]); clock = parts[3]
        } else if parts.count == 4 {
            // asctime: Nov 6 08:49:37 1994
            month = months.firstIndex(of: parts[0].lowercased()).map { $0 + 1 }
            day = Int(parts[1]); clock = parts[2]; year = Int(parts[3])
        }
        guard let day, let month, let year, let clock, (1...9999).contains(year), (1...12).contains(month),
              (1...UTCTime.daysInMonth(year: year, month: month)).contains(day) else { return nil }
        let hms = clock.split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (0..<24).contains(hms[0]), (0..<60).contains(hms[1]), (0...60).contains(hms[2]) else {
            return nil
        }
        let ms = UTCTime.milliseconds(year: year, month: month, day: day, hour: hms[0], minute: hms[1], second: hms[2])
        return Double(ms) / 1000
    }
}
