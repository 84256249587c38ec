/// Which way an order trades.
public enum OrderSide: String, Sendable, Equatable, Codable {
    case buy, sell

    /// +1 for buy, -1 for sell.
    public var sign: Double { self == .buy ? 1 : -1 }
    public var opposite: OrderSide { self == .buy ? .sell : .buy }
}

/// How an order's price is determined.
///
/// - `market`: fills at the first eligible bar's open (plus slippage).
/// - `limit(p)`: buy at `p` or lower / sell at `p` or higher; a bar that opens through the limit fills at the open.
/// - `stop(p)`: becomes a market order once the price trades at `p` (buy: high >= p; sell: low <= p); fills at
///   `p`, or at the open when the bar gaps through it (the worse price).
/// - `stopLimit(stop:limit:)`: once the stop triggers, rests as a limit order at `limit`.
public enum OrderKind: Sendable, Equatable, Codable {
    case market
    case limit(Double)
    case stop(Double)
    case stopLimit(stop: Double, limit: Double)

    public var name: String {
        switch self {
        case .market: "market"
        case .limit: "limit"
        case .stop: "stop"
        case .stopLimit: "stop_limit"
        }
    }
}

/// How long an order stays working.
///
/// - `gtc`: good till cancelled.
/// - `day`: expires at the end of the trading session (calendar day of the symbol's market) it was submitted in.
/// - `ioc`: immediate or cancel: whatever the first eligible bar cannot fill is cancelled.
public enum TimeInForce: String, Sendable, Equatable, Codable {
    case gtc, day, ioc
}

/// How much an order trades.
///
/// - `units(n)`: an absolute quantity (shares, coins, FX units).
/// - `equityFraction(f)`: the largest whole number of units that `f` of the available margin (times leverage)
///   pays for at the fill price, commission included — backtesting.py's `size` in (0, 1).
/// - `closePosition`: whatever quantity flattens the symbol's position when the order fills.
public enum OrderSize: Sendable, Equatable, Codable {
    case units(Double)
    case equityFraction(Double)
    case closePosition

    /// backtesting.py's default `size` for `buy()`/`sell()`: `1 - Double.ulpOfOne`, "all available equity".
    public static let allEquity = OrderSize.equityFraction(1 - Double.ulpOfOne)
}

/// What a strategy (or the live robot) asks the broker to do: one order, optionally with a protective stop-loss and
/// a take-profit that are attached to the resulting position as a one-cancels-other pair (a bracket).
///
///     OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000), kind: .limit(1.0650),
///                  stopLoss: 1.0600, takeProfit: 1.0750)          // bracket: entry + SL + TP, OCO
public struct OrderRequest: Sendable, Equatable, Codable {
    public var symbol: String
    public var side: OrderSide
    public var size: OrderSize
    public var kind: OrderKind
    public var timeInForce: TimeInForce
    /// Stop-loss price for the position this order opens (bracket child, a stop order).
    public var stopLoss: Double?
    /// Take-profit price for the position this order opens (bracket child, a limit order).
    public var takeProfit: Double?
    public var tag: String?

    public init(symbol: String, side: OrderSide, size: OrderSize, kind: OrderKind = .market,
                timeInForce: TimeInForce = .gtc, stopLoss: Double? = nil, takeProfit: Double? = nil,
                tag: String? = nil) {
        self.symbol = symbol
        self.side = side
        self.size = size
        self.kind = kind
        self.timeInForce = timeInForce
        self.stopLoss = stopLoss
        self.takeProfit = takeProfit
        self.tag = tag
    }
}
