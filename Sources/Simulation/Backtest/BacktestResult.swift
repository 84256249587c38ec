import MarketData

/// Everything a backtest recorded: the equity curve (one point per clock step, at the step's close time),
/// closed trades, positions left open, every order with its history and every fill.
public struct BacktestResult: Sendable {
    public var strategy: String
    public var parameters: [(String, String)]
    public var symbols: [String]
    public var timeframe: Timeframe
    public var initialCash: Double
    /// Clock times (bar close times, UTC epoch ms) of the equity curve.
    public var times: [Int64]
    /// Open time of the first series' latest bar at each step (the pandas-style bar label).
    public var barTimes: [Int64]
    public var equity: [Double]
    public var cash: [Double]
    /// Gross position value (Σ |units × mark|) at each step.
    public var exposure: [Double]
    public var trades: [ClosedTrade]
    public var openLots: [OpenLot]
    public var orders: [Order]
    public var fills: [Fill]
    public var totalCommission: Double
    public var totalFinancing: Double
    /// Σ |units × price| over all fills.
    public var tradedValue: Double
    /// True when equity hit zero and the run stopped early.
    public var wipedOut: Bool

    public var finalEquity: Double { equity.last ?? initialCash }
    public var barCount: Int { equity.count }

    /// Per-step simple returns of the equity curve (count − 1 values).
    public var returns: [Double] {
        guard equity.count > 1 else { return [] }
        var r = [Double](repeating: 0, count: equity.count - 1)
        for i in 1..<equity.count { r[i - 1] = equity[i - 1] == 0 ? 0 : equity[i] / equity[i - 1] - 1 }
        return r
    }
}
