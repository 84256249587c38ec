import Common
import Foundation

/// When a market trades, as UTC session intervals: the basis of gap detection.
///
/// - `.fx`: 24x5, from Sunday 17:00 New York to Friday 17:00 New York (following US DST).
/// - `.crypto`: 24x7.
/// - `.usEquities`: NYSE/Nasdaq regular sessions, Monday-Friday 09:30-16:00 New York, without NYSE holidays
///   (New Year, MLK Day since 1998, Presidents Day, Good Friday, Memorial Day, Juneteenth since 2022, Independence
///   Day, Labor Day, Thanksgiving, Christmas; Saturday holidays observed on Friday except New Year, Sunday ones on
///   Monday; and the special closures since 2001), closing at 13:00 on July 3, the day after Thanksgiving and
///   Christmas Eve when those are early-close days.
///
///     let s = MarketCalendar.usEquities.sessions(from: UTCTime.milliseconds(year: 2024, month: 7, day: 1),
///                                                to: UTCTime.milliseconds(year: 2024, month: 7, day: 8))
///     s.count   // 4: July 4 is closed, July 3 closes at 13:00
public enum MarketCalendar: String, Sendable, CaseIterable, CustomStringConvertible {
    case fx
    case crypto
    case usEquities = "us_equities"

    public var description: String { rawValue }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let text: String
        public var description: String { "unknown market calendar '\(text)' (fx, crypto, us_equities)" }
    }

    public init(parsing text: String) throws(ParseError) {
        switch text.lowercased().replacingOccurrences(of: "-", with: "_") {
        case "fx", "forex", "24x5": self = .fx
        case "crypto", "24x7": self = .crypto
        case "us_equities", "us_equity", "equities", "stocks", "nyse", "nasdaq": self = .usEquities
        default: throw ParseError(text: text)
        }
    }

    /// A trading session `[open, close)` in UTC epoch ms.
    public struct Session: Equatable, Sendable {
        public var open: Int64
        public var close: Int64
    }

    /// Sessions overlapping `[from, to)`, in order, clipped to the range.
    public func sessions(from: Int64, to: Int64) -> [Session] {
        guard from < to else { return [] }
        var out: [Session] = []
        let ny = TimeZoneRule.newYork
        switch self {
        case .crypto:
            out = [Session(open: from, close: to)]
        case .fx:
            // Weeks open Sunday 17:00 and close Friday 17:00 New York time.
            let firstDay = UTCTime.floorDiv(ny.local(fromUTC: from), UTCTime.msPerDay) - 7
            var day = firstDay - (Int64(UTCTime.components(firstDay * UTCTime.msPerDay).weekday) % 7)   // a Sunday
            while true {
                let open = ny.utc(fromLocal: day * UTCTime.msPerDay + 17 * UTCTime.msPerHour)
                let close = ny.utc(fromLocal: (day + 5) * UTCTime.msPerDay + 17 * UTCTime.msPerHour)
                if open >= to { break }
                if close > from { out.append(Session(open: max(open, from), close: min(close, to))) }
                day += 7
            }
        case .usEquities:
            var day = UTCTime.floorDiv(ny.local(fromUTC: from), UTCTime.msPerDay) - 1
            let lastDay = UTCTime.floorDiv(ny.local(fromUTC: to), UTCTime.msPerDay) + 1
            while day <= lastDay {
                if let (openMinute, closeMinute) = NYSEHolidays.hours(day: day) {
                    let open = ny.utc(fromLocal: day * UTCTime.msPerDay + Int64(openMinute) * UTCTime.msPerMinute)
                    let close = ny.utc(fromLocal: day * UTCTime.msPerDay + Int64(closeMinute) * UTCTime.msPerMinute)
                    if close > from && open < to { out.append(Session(open: max(open, from), close: min(close, to))) }
                }
                day += 1
            }
        }
        return out
    }

    /// Whether the market is open at `t`.
    public func isOpen(at t: Int64) -> Bool { !sessions(from: t, to: t + 1).isEmpty }
}

/// NYSE trading days and hours.
enum NYSEHolidays {
    /// Full-day closures outside the regular holiday rules (national mourning, weather, 9/11).
    static let specialClosures: Set<String> = [
        "2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14", "2004-06-11", "2007-01-02", "2012-10-29", "2012-10-30",
        "2018-12-05", "2025-01-09",
    ]

    /// Regular-session (open, close) minutes after New York midnight for civil day `day`, nil when closed.
    static func hours(day: Int64) -> (Int, Int)? {
        let weekday = UTCTime.components(day * UTCTime.msPerDay).weekday
        guard weekday <= 5 else { return nil }
        let (y, m, d) = UTCTime.civil(days: day)
        if isHoliday(y, m, d, weekday: weekday) { return nil }
        let key = String(format: "%04d-%02d-%02d", y, m, d)
        if specialClosures.contains(key) { return nil }
        return (9 * 60 + 30, isEarlyClose(y, m, d, weekday: weekday) ? 13 * 60 : 16 * 60)
    }

    static func isHoliday(_ y: Int, _ m: Int, _ d: Int, weekday: Int) -> Bool {
        // Fixed-date holidays, observed on Friday (Saturday) or Monday (Sunday); New Year on a Saturday is not
        // observed on December 31.
        func observed(_ hm: Int, _ hd: Int, allowFriday: Bool = true) -> Bool {
            if m == hm && d == hd { return true }
            let day = UTCTime.days(year: y, month: hm, day: hd)
            let wd = UTCTime.components(day * UTCTime.msPerDay).weekday
            if wd == 6 && allowFriday { return UTCTime.civil(days: day - 1) == (y, m, d) }
            if wd == 7 { return UTCTime.civil(days: day + 1) == (y, m, d) }
            return false
        }
        if observed(1, 1, allowFriday: false) { return true }
        if observed(7, 4) || observed(12, 25) { return true }
        if y >= 2022 && observed(6, 19) { return true }
        if m == 1 && y >= 1998 && weekday == 1 && (15...21).contains(d) { return true }   // MLK: 3rd Monday
        if m == 2 && weekday == 1 && (15...21).contains(d) { return true }                // Presidents: 3rd Monday
        if m == 5 && weekday == 1 && d + 7 > 31 { return true }                           // Memorial: last Monday
        if m == 9 && weekday == 1 && d <= 7 { return true }                               // Labor: 1st Monday
        if m == 11 && weekday == 4 && (22...28).contains(d) { return true }               // Thanksgiving: 4th Thursday
        let (em, ed) = easter(y)
        let goodFriday = UTCTime.civil(days: UTCTime.days(year: y, month: em, day: ed) - 2)
        return goodFriday == (y, m, d)
    }

    static func isEarlyClose(_ y: Int, _ m: Int, _ d: Int, weekday: Int) -> Bool {
        if m == 7 && d == 3 && weekday <= 4 { return true }                               // July 3, Mon-Thu
        if m == 12 && d == 24 && weekday <= 4 { return true }                             // Christmas Eve, Mon-Thu
        if m == 11 && weekday == 5 && (23...29).contains(d) { return true }               // day after Thanksgiving
        return false
    }

    /// Gregorian Easter Sunday (anonymous Gregorian algorithm).
    static func easter(_ y: Int) -> (Int, Int) {
        let a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return (month, day)
    }
}
