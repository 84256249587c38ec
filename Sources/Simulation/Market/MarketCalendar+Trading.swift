import Common
import MarketData

/// MarketData's calendars (FX 24x5, crypto 24x7, US equities with NYSE holidays) as the simulator's
/// `TradingCalendar`. The session day — when DAY orders expire — is the trading date: for FX the day that rolls
/// over at 17:00 New York (a Sunday-evening bar belongs to Monday), for US equities the New York date, for crypto
/// the UTC date.
extension MarketCalendar: TradingCalendar {
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
