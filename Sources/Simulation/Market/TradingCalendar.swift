import Common

/// When a market trades, as the simulator needs it: whether it is open at an instant, and which trading session
/// (day) an instant belongs to (for `TimeInForce.day` orders and daily financing).
public protocol TradingCalendar: Sendable {
    func isOpen(at time: Int64) -> Bool
    /// An identifier of the trading session containing `time` (e.g. days since the epoch of the session date).
    func sessionDay(at time: Int64) -> Int64
}

/// A market that never closes, whose sessions are UTC calendar days (crypto; the default when no calendar is set).
public struct AlwaysOpenCalendar: TradingCalendar {
    public init() {}
    public func isOpen(at time: Int64) -> Bool { true }
    public func sessionDay(at time: Int64) -> Int64 { UTCTime.floorDiv(time, UTCTime.msPerDay) }
}
