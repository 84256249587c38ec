import Common
import Foundation

/// A bar timeframe: 1m 5m 15m 30m 1h 4h 1d 1w 1M.
///
/// Parsing accepts the spellings people and vendors use; printing gives the canonical form:
///
///     try Timeframe(parsing: "H1")      // .h1   (MetaTrader)
///     try Timeframe(parsing: "1Hour")   // .h1   (Alpaca)
///     try Timeframe(parsing: "60min")   // .h1
///     Timeframe.h4.description          // "4h"
///     Timeframe.mn1.description         // "1M" (a calendar month; "1m" is one minute)
public enum Timeframe: String, CaseIterable, Sendable, Hashable, Comparable, CustomStringConvertible {
    case m1 = "1m", m5 = "5m", m15 = "15m", m30 = "30m"
    case h1 = "1h", h4 = "4h"
    case d1 = "1d", w1 = "1w", mn1 = "1M"

    public var description: String { rawValue }

    /// Nominal length in milliseconds (a month counts 30 days; use calendar arithmetic for month bins).
    public var milliseconds: Int64 {
        switch self {
        case .m1: UTCTime.msPerMinute
        case .m5: 5 * UTCTime.msPerMinute
        case .m15: 15 * UTCTime.msPerMinute
        case .m30: 30 * UTCTime.msPerMinute
        case .h1: UTCTime.msPerHour
        case .h4: 4 * UTCTime.msPerHour
        case .d1: UTCTime.msPerDay
        case .w1: 7 * UTCTime.msPerDay
        case .mn1: 30 * UTCTime.msPerDay
        }
    }

    /// True for timeframes whose bins follow the calendar (days, weeks, months) rather than fixed durations.
    public var isCalendar: Bool { self == .d1 || self == .w1 || self == .mn1 }

    public static func < (a: Timeframe, b: Timeframe) -> Bool { a.milliseconds < b.milliseconds }

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "unknown timeframe '\(text)' (expected one of 1m 5m 15m 30m 1h 4h 1d 1w 1M, or M5/H1/D1, 1Hour, 60min...)"
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let exact = Timeframe(rawValue: t) { self = exact; return }
        // MetaTrader: M1 M5 M15 M30 H1 H4 D1 W1 MN1
        switch t.uppercased() {
        case "M1": self = .m1; return
        case "M5": self = .m5; return
        case "M15": self = .m15; return
        case "M30": self = .m30; return
        case "H1": self = .h1; return
        case "H4": self = .h4; return
        case "D1", "D", "DAILY": self = .d1; return
        case "W1", "W", "WEEKLY": self = .w1; return
        case "MN1", "MN", "MONTHLY": self = .mn1; return
        default: break
        }
        // "<n><unit>": 1Min 5min 60min 1Hour 4H 1Day 1Week 1Month
        let digits = t.prefix { $0.isNumber }
        let unit = t.dropFirst(digits.count).lowercased()
        guard let n = Int(digits), n > 0 else { throw ParseError(text: text) }
        let minutes: Int
        switch unit {
        case "m", "min", "mins", "minute", "minutes", "t": minutes = n
        case "h", "hr", "hour", "hours": minutes = 60 * n
        case "d", "day", "days": minutes = 1440 * n
        case "w", "wk", "week", "weeks": minutes = 10080 * n
        case "mo", "mon", "month", "months", "ms":
            guard n == 1 else { throw ParseError(text: text) }
            self = .mn1; return
        default: throw ParseError(text: text)
        }
        switch minutes {
        case 1: self = .m1
        case 5: self = .m5
        case 15: self = .m15
        case 30: self = .m30
        case 60: self = .h1
        case 240: self = .h4
        case 1440: self = .d1
        case 10080: self = .w1
        default: throw ParseError(text: text)
        }
    }
}
