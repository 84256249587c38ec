/// What a strategy or the trading robot may do with its broker — the one interface that a simulated broker
/// (`SimulatedBroker`) and a live broker both implement, so the same robot code runs in backtests and live.
///
///     mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
///         if broker.positionSize("EURUSD") == 0 {
///             broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .allEquity))
///         }
///     }
public protocol OrderRouting {
    /// Queues an order; it reaches the market no earlier than the next bar's open. Returns its id.
    @discardableResult mutating func submit(_ request: OrderRequest) -> Int
    /// Cancels a working order (no-op if it already finished).
    mutating func cancel(orderID: Int)
    /// Signed units held.
    func positionSize(_ symbol: String) -> Double
    /// Account equity at the latest marks.
    var equity: Double { get }
    var cash: Double { get }
    /// Orders still working (accepted or partially filled), oldest first.
    var workingOrders: [Order] { get }
}

extension OrderRouting {
    /// Queues a market order that flattens `symbol`'s position when it fills (nothing if flat then).
    @discardableResult
    public mutating func closePosition(_ symbol: String, tag: String? = nil) -> Int? {
        let size = positionSize(symbol)
        guard size != 0 else { return nil }
        return submit(OrderRequest(symbol: symbol, side: size > 0 ? .sell : .buy, size: .closePosition, tag: tag))
    }

    /// A market buy of `size` (default: all available equity, backtesting.py's `buy()`).
    @discardableResult
    public mutating func buy(_ symbol: String, size: OrderSize = .allEquity, stopLoss: Double? = nil,
                             takeProfit: Double? = nil) -> Int {
        submit(OrderRequest(symbol: symbol, side: .buy, size: size, stopLoss: stopLoss, takeProfit: takeProfit))
    }

    /// A market sell of `size` (default: all available equity, backtesting.py's `sell()`).
    @discardableResult
    public mutating func sell(_ symbol: String, size: OrderSize = .allEquity, stopLoss: Double? = nil,
                              takeProfit: Double? = nil) -> Int {
        submit(OrderRequest(symbol: symbol, side: .sell, size: size, stopLoss: stopLoss, takeProfit: takeProfit))
    }
}
