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
    /// The ruin threshold as a fraction of `initialCash` (`BacktestConfig.ruinFraction`).
    public var ruinFraction: Double = BacktestConfig.defaultRuinFraction
    /// The first point of the equity curve at or below `ruinFraction × initialCash` — the run was **ruined**
    /// there — or nil.
    ///
    /// Ruin is a first passage: equity at a bar close ≤ 1 % (default) of the initial cash. It includes a
    /// wipe-out (equity ≤ 0, which stops the run) but does not need one: an account that lost 99 % needs a
    /// ×100 gain to recover, cannot size most orders any more (equity-fraction orders are rejected with
    /// `insufficient_margin` once equity is below one unit's price plus commission) and in practice would have
    /// been closed by the broker or the trader long before. A threshold on equity, rather than "the last order
    /// was rejected", is used because it does not depend on the instrument's unit price (a 10 000 account
    /// cannot buy one 60 000 BTC unit without having lost anything) and because it is the classical
    /// risk-of-ruin definition (a loss level, here 99 %), so runs on different instruments compare. Rejected
    /// orders are reported separately (`rejectedOrders`, `rejectionsByReason`). The run does not stop at ruin
    /// (only at a wipe-out, as backtesting.py).
    public var ruinIndex: Int? = nil

    /// True when equity fell to or below `ruinFraction × initialCash` at some bar close (see `ruinIndex`).
    public var ruined: Bool { ruinIndex != nil }
    /// The bar (open) time of the ruin point, the label equity.csv gives that equity.
    public var ruinTime: Int64? { ruinIndex.map { barTimes[$0] } }
    /// Equity at the ruin point.
    public var ruinEquity: Double? { ruinIndex.map { equity[$0] } }

    /// Orders the broker rejected (never worked: invalid size or price, insufficient margin).
    public var rejectedOrders: Int { orders.reduce(0) { $0 + ($1.status == .rejected ? 1 : 0) } }

    /// Rejected orders by reason (`insufficient_margin`, `invalid_size`...), most frequent first.
    public var rejectionsByReason: [(reason: String, count: Int)] {
        var counts: [String: Int] = [:]
        for o in orders where o.status == .rejected { counts[o.reason?.rawValue ?? "unknown", default: 0] += 1 }
        return counts.map { (reason: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
    }

    /// The first index of `equity` at or below `fraction × initial`, or nil.
    static func ruinIndex(equity: [Double], initial: Double, fraction: Double) -> Int? {
        let level = fraction * initial
        return equity.firstIndex { $0 <= level }
    }

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
