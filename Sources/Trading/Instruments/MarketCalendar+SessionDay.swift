import Common
import MarketData

/// The session day of MarketData's calendars (FX 24x5, crypto 24x7, US equities with NYSE holidays): the trading
/// date an instant belongs to — when DAY orders expire and when the risk engine's daily counters (start-of-day
/// equity, the daily loss limit) start over. For FX the day that rolls over at 17:00 New York (a Sunday-evening bar
/// belongs to Monday), for US equities the New York date, for crypto the UTC date. The value is days since
/// 1970-01-01 of that trading date.
///
///     MarketCalendar.fx.sessionDay(at: UTCTime.milliseconds(year: 2024, month: 1, day: 7, hour: 22))
///     // Sunday 17:00 New York belongs to Monday 2024-01-08: UTCTime.days(year: 2024, month: 1, day: 8)
extension MarketCalendar {
    public func sessionDay(at time: Int64) -> Int64 {
        switch self {
        case .crypto:
            return UTCTime.floorDiv(time, UTCTime.msPerDay)
        case .fx:
            return UTCTime.floorDiv(TimeZoneRule.newYork.local(fromUTC: time) + 7 * UTCTime.msPerHour, UTCTime.msPerDay)
        case .usEquities:
            return UTCTime.floorDiv(TimeZoneRule.newYork.local(fromUTC: time), UTCTime.msPerDay)
        }
    }
}
