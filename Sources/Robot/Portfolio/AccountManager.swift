import Risk
import Trading

/// The account as the robot reports it: balance, equity, margin available (the venue's buying power), and the day's
/// figures from the daily counters (start-of-day equity, reset at the market's session boundary; the day's P&L).
public struct AccountManager: Sendable, Equatable, Codable {
    public private(set) var balance = 0.0
    public private(set) var equity = 0.0
    public private(set) var buyingPower = 0.0
    public private(set) var startOfDayEquity: Double?
    public private(set) var peakEquity: Double?
    public private(set) var time: Int64 = .min

    public init() {}

    public mutating func update(with report: AccountReport, day: DailyCounters?) {
        balance = report.balance
        equity = report.equity
        buyingPower = report.buyingPower
        time = report.time
        startOfDayEquity = day?.startOfDayEquity
        peakEquity = day?.peakEquity
    }

    /// Equity − start-of-day equity (nil before the first cycle).
    public var dailyPnL: Double? { startOfDayEquity.map { equity - $0 } }
    /// Drawdown from the peak, as a fraction of it.
    public var drawdown: Double? { peakEquity.map { $0 > 0 ? max(0, 1 - equity / $0) : 0 } }
}
