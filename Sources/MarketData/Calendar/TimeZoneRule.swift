import Common
import Foundation

/// A time zone as the data layer needs it: the UTC offset at any instant and the instant of a local wall-clock time.
///
/// Built-in rules need no tz database: fixed offsets, and US daylight saving time (America/New_York and
/// America/Chicago: second Sunday of March to first Sunday of November since 2007, first Sunday of April to last
/// Sunday of October 1987-2006, last Sunday of April 1967-1986), which is what the FX day (17:00 New York) and US
/// equity sessions need. Other IANA names use the system tz database (Foundation `TimeZone`) when it is installed,
/// and are an error otherwise — never a silent fallback to UTC.
///
///     let ny = try TimeZoneRule(parsing: "America/New_York")
///     ny.offset(atUTC: UTCTime.milliseconds(year: 2017, month: 7, day: 1)) / UTCTime.msPerHour   // -4
///     ny.utc(fromLocal: UTCTime.milliseconds(year: 2017, month: 1, day: 2, hour: 17))           // 22:00 UTC
///     try TimeZoneRule(parsing: "+02:00")       // fixed
///     try TimeZoneRule(parsing: "NY+7")         // MetaTrader "New York close" server time: New York + 7 hours
public struct TimeZoneRule: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case fixed(Int64)
        /// US DST rules around a standard offset (ms); `name` is what the user wrote.
        case usDaylightSaving(standard: Int64)
        case system(String)
    }

    let kind: Kind
    public let name: String

    public static let utc = TimeZoneRule(kind: .fixed(0), name: "UTC")
    public static let newYork = TimeZoneRule(kind: .usDaylightSaving(standard: -5 * UTCTime.msPerHour),
                                             name: "America/New_York")

    init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// A fixed offset from UTC.
    public static func fixed(hours: Int, minutes: Int = 0) -> TimeZoneRule {
        let ms = Int64(hours) * UTCTime.msPerHour + Int64(hours < 0 ? -minutes : minutes) * UTCTime.msPerMinute
        let sign = ms < 0 ? "-" : "+"
        let a = abs(ms) / UTCTime.msPerMinute
        return TimeZoneRule(kind: .fixed(ms), name: String(format: "%@%02d:%02d", sign, Int(a / 60), Int(a % 60)))
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String {
            "unknown time zone '\(text)' (expected UTC, ±HH:MM, America/New_York, America/Chicago, NY+7, or an IANA "
                + "name present in /usr/share/zoneinfo)"
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch t.uppercased() {
        case "UTC", "GMT", "Z", "ETC/UTC", "": self = .utc; return
        case "AMERICA/NEW_YORK", "US/EASTERN", "EST5EDT", "NEW_YORK", "NY": self = .newYork; return
        case "AMERICA/CHICAGO", "US/CENTRAL", "CST6CDT":
            self = TimeZoneRule(kind: .usDaylightSaving(standard: -6 * UTCTime.msPerHour), name: "America/Chicago")
            return
        case "NY+7", "MT5", "FXSERVER":
            self = TimeZoneRule(kind: .usDaylightSaving(standard: 2 * UTCTime.msPerHour), name: "NY+7")
            return
        default: break
        }
        if let fixed = Self.parseOffset(t) { self = fixed; return }
        if t.contains("/"), let zone = TimeZone(identifier: t) {
            _ = zone
            self = TimeZoneRule(kind: .system(t), name: t)
            return
        }
        throw ParseError(text: text)
    }

    /// `+02:00`, `-0530`, `UTC+2`, `GMT-03:30`.
    static func parseOffset(_ text: String) -> TimeZoneRule? {
        var s = Substring(text)
        for prefix in ["UTC", "GMT"] where s.uppercased().hasPrefix(prefix) { s = s.dropFirst(prefix.count) }
        guard let signChar = s.first, signChar == "+" || signChar == "-" else { return nil }
        let body = s.dropFirst().replacingOccurrences(of: ":", with: "")
        guard !body.isEmpty, body.allSatisfy(\.isNumber), body.count <= 4 else { return nil }
        let hours: Int, minutes: Int
        if body.count <= 2 { hours = Int(body)!; minutes = 0 } else {
            hours = Int(body.prefix(body.count - 2))!
            minutes = Int(body.suffix(2))!
        }
        guard hours <= 14, minutes < 60 else { return nil }
        return .fixed(hours: signChar == "-" ? -hours : hours, minutes: minutes)
    }

    public var description: String { name }
    public var isUTC: Bool { kind == .fixed(0) }

    /// Local time minus UTC, in milliseconds, at the UTC instant `t`.
    public func offset(atUTC t: Int64) -> Int64 {
        switch kind {
        case .fixed(let ms): return ms
        case .usDaylightSaving(let standard):
            return USDaylightSaving.isInEffect(atUTC: t, standardOffset: standard) ? standard + UTCTime.msPerHour
                : standard
        case .system(let identifier):
            guard let zone = TimeZone(identifier: identifier) else { return 0 }
            let date = Date(timeIntervalSince1970: Double(t) / 1000)
            return Int64(zone.secondsFromGMT(for: date)) * UTCTime.msPerSecond
        }
    }

    /// The local wall-clock time (as epoch ms of the same civil fields) of the UTC instant `t`.
    public func local(fromUTC t: Int64) -> Int64 { t + offset(atUTC: t) }

    /// The UTC instant of a local wall-clock time. A repeated time (fall back) maps to its first occurrence; a time
    /// skipped by a spring-forward gap is read with the offset from before the gap (02:30 New York -> 03:30 EDT),
    /// as Python's `fold=0` does.
    public func utc(fromLocal local: Int64) -> Int64 {
        if case .fixed(let ms) = kind { return local - ms }
        // Try the offsets in force just before and just after; keep one that round-trips.
        let before = offset(atUTC: local - offset(atUTC: local) - 2 * UTCTime.msPerDay)
        let after = offset(atUTC: local - offset(atUTC: local) + 2 * UTCTime.msPerDay)
        let candidates = [before, after].sorted(by: >)   // larger offset = earlier instant first
        for o in candidates where offset(atUTC: local - o) == o { return local - o }
        // In a gap: the wall-clock time does not exist; read it with the earlier (smaller, standard) offset.
        return local - candidates.last!
    }
}

/// United States daylight saving time rules (Energy Policy Act of 2005 and earlier Uniform Time Act rules).
enum USDaylightSaving {
    /// DST transitions happen at 02:00 local time.
    static func isInEffect(atUTC t: Int64, standardOffset: Int64) -> Bool {
        let localStandard = t + standardOffset
        let year = UTCTime.components(localStandard).year
        guard let (start, end) = window(year: year) else { return false }
        // Starts at 02:00 standard time; ends at 02:00 daylight time = 01:00 standard time.
        let startMs = UTCTime.milliseconds(year: year, month: start.month, day: start.day, hour: 2)
        let endMs = UTCTime.milliseconds(year: year, month: end.month, day: end.day, hour: 1)
        return localStandard >= startMs && localStandard < endMs
    }

    /// The first and last civil days of DST in `year`, nil when the US observed none.
    static func window(year: Int) -> (start: (month: Int, day: Int), end: (month: Int, day: Int))? {
        switch year {
        case 2007...:
            return ((3, nthSunday(year: year, month: 3, n: 2)), (11, nthSunday(year: year, month: 11, n: 1)))
        case 1987...2006:
            return ((4, nthSunday(year: year, month: 4, n: 1)), (10, lastSunday(year: year, month: 10)))
        case 1976...1986, 1967...1973:
            return ((4, lastSunday(year: year, month: 4)), (10, lastSunday(year: year, month: 10)))
        case 1974: return ((1, 6), (10, 27))
        case 1975: return ((2, 23), (10, 26))
        default: return nil
        }
    }

    static func nthSunday(year: Int, month: Int, n: Int) -> Int {
        let first = UTCTime.days(year: year, month: month, day: 1)
        let weekday = UTCTime.components(first * UTCTime.msPerDay).weekday   // Monday = 1 ... Sunday = 7
        let firstSunday = 1 + (7 - weekday) % 7
        return firstSunday + 7 * (n - 1)
    }

    static func lastSunday(year: Int, month: Int) -> Int {
        let last = UTCTime.daysInMonth(year: year, month: month)
        let weekday = UTCTime.components(UTCTime.days(year: year, month: month, day: last) * UTCTime.msPerDay).weekday
        return last - weekday % 7
    }
}
