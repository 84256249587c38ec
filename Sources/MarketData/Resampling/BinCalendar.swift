import Common

/// Where the bins of a target timeframe start: the day boundary (time zone and hour), Monday weeks, 1st-of-month
/// months, and fixed-width intraday bins counted from the start of each day.
///
/// With the default (UTC, days starting at 00:00) every bin matches pandas' `resample(...)` with bins closed and
/// labelled on the left: `4h`, `1D`, `W-MON` (label and closed left) and `MS`. With `BinCalendar.fxNewYork` a day
/// starts at 17:00 New York time (the FX convention: Sunday 17:00 opens Monday's bar), following US DST.
///
///     let cal = BinCalendar.fxNewYork
///     let t = UTCTime.milliseconds(year: 2017, month: 7, day: 3, hour: 12)       // Monday noon UTC
///     UTCTime.iso8601(cal.binStart(t, .d1))                                       // 2017-07-02T21:00:00Z
public struct BinCalendar: Sendable, Equatable {
    /// The zone in which days, weeks and months are counted.
    public var timeZone: TimeZoneRule
    /// The local time of day at which a day begins, in ms after midnight (0 ..< 24 h); 17:00 for FX.
    /// A day that begins at 17:00 belongs to the NEXT calendar date (Sunday 17:00 opens Monday).
    public var dayStart: Int64

    public init(timeZone: TimeZoneRule = .utc, dayStartHour: Int = 0, dayStartMinute: Int = 0) {
        self.timeZone = timeZone
        self.dayStart = Int64(dayStartHour) * UTCTime.msPerHour + Int64(dayStartMinute) * UTCTime.msPerMinute
    }

    public static let utc = BinCalendar()
    public static let fxNewYork = BinCalendar(timeZone: .newYork, dayStartHour: 17)

    /// Shift that maps local wall-clock time to "trading day" time, in which each day starts at 00:00.
    private var shift: Int64 { dayStart == 0 ? 0 : UTCTime.msPerDay - dayStart }

    /// The trading-day number (days since 1970-01-01 in trading-day time) of the UTC instant `t`.
    @inline(__always) func tradingDay(_ t: Int64) -> Int64 {
        UTCTime.floorDiv(timeZone.local(fromUTC: t) + shift, UTCTime.msPerDay)
    }

    /// The UTC instant at which trading day `day` begins.
    func dayOpen(_ day: Int64) -> Int64 {
        timeZone.utc(fromLocal: day * UTCTime.msPerDay - shift)
    }

    /// The UTC start of the bin of `timeframe` that contains `t`.
    public func binStart(_ t: Int64, _ timeframe: Timeframe) -> Int64 {
        if timeZone.isUTC && dayStart == 0 && !timeframe.isCalendar {
            return UTCTime.floorDiv(t, timeframe.milliseconds) * timeframe.milliseconds   // fast path
        }
        let day = tradingDay(t)
        switch timeframe {
        case .d1: return dayOpen(day)
        case .w1:
            let weekday = Int64(UTCTime.components(day * UTCTime.msPerDay).weekday)   // Monday = 1
            return dayOpen(day - (weekday - 1))
        case .mn1:
            let (y, m, _) = UTCTime.civil(days: day)
            return dayOpen(UTCTime.days(year: y, month: m, day: 1))
        default:
            let open = dayOpen(day)
            let width = timeframe.milliseconds
            return open + UTCTime.floorDiv(t - open, width) * width
        }
    }

    /// The UTC start of the bin after the one that starts at `start` (its exclusive end).
    public func binEnd(after start: Int64, _ timeframe: Timeframe) -> Int64 {
        if timeZone.isUTC && dayStart == 0 && !timeframe.isCalendar { return start + timeframe.milliseconds }
        let day = tradingDay(start)
        switch timeframe {
        case .d1: return dayOpen(day + 1)
        case .w1: return dayOpen(day + 7)
        case .mn1:
            let (y, m, _) = UTCTime.civil(days: day)
            return dayOpen(m == 12 ? UTCTime.days(year: y + 1, month: 1, day: 1) : UTCTime.days(year: y, month: m + 1, day: 1))
        default:
            // Intraday bins restart at each day's open (a DST day's last bin is shorter or longer).
            return min(start + timeframe.milliseconds, dayOpen(day + 1))
        }
    }
}
