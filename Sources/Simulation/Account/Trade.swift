/// One open position lot: units bought (or sold short) in one fill, not yet closed. A symbol's position is the
/// sum of its lots; closing happens first-in first-out, as in backtesting.py.
public struct OpenLot: Sendable, Equatable {
    public var symbol: String
    /// Signed units: positive long, negative short.
    public var size: Double
    public var entryPrice: Double
    public var entryTime: Int64
    public var entryBar: Int
    /// Stop-loss / take-profit bracket children attached to this lot.
    public var stopLossOrderID: Int?
    public var takeProfitOrderID: Int?
    public var tag: String?
}

/// A closed round trip: entry and exit of `size` units.
///
/// `pnl` = size × (exit − entry) − commission, where `commission` is both legs' commission for these units —
/// backtesting.py's `Trade.pl` and `Trade._commissions`. `financing` (if any) is charged to the account as it
/// accrues and also reported here.
public struct ClosedTrade: Sendable, Equatable {
    public var symbol: String
    public var size: Double
    public var entryTime: Int64
    public var exitTime: Int64
    public var entryBar: Int
    public var exitBar: Int
    public var entryPrice: Double
    public var exitPrice: Double
    public var pnl: Double
    public var commission: Double
    public var financing: Double
    public var tag: String?
    /// Why the trade closed: "signal", "stop_loss", "take_profit", "end_of_data".
    public var exitReason: String

    public var side: OrderSide { size > 0 ? .buy : .sell }
    public var isLong: Bool { size > 0 }
    /// Return on the entry value, net of commission (backtesting.py's `ReturnPct` as a fraction).
    public var returnFraction: Double {
        (size > 0 ? 1.0 : -1.0) * (exitPrice / entryPrice - 1) - commission / (abs(size) * entryPrice)
    }
}
