/// Moving-average crossover — the reference strategy, with backtesting.py's `SmaCross` semantics:
/// on a bar where SMA(fast) of the close crosses above SMA(slow), close any position and go long with all
/// available equity; on a cross below, close and go short with all available equity. Orders are market orders
/// that fill at the next bar's open; sizes are whole units.
///
///     var s = SMACross(fast: 10, slow: 20)
///     let result = try Backtester(series: [bars], config: config).run(&s)
public struct SMACross: TradingStrategy, Sendable {
    public var fast: Int
    public var slow: Int
    /// Which symbol (index into the backtest's series) to trade.
    public var symbol: Int
    private var fastID: IndicatorID?
    private var slowID: IndicatorID?
    private var symbolName = ""

    public init(fast: Int = 10, slow: Int = 20, symbol: Int = 0) {
        precondition(fast > 0 && slow > 0, "SMA windows must be > 0")
        self.fast = fast
        self.slow = slow
        self.symbol = symbol
    }

    public var name: String { "sma_cross" }
    public var parameters: [(String, String)] { [("fast", "\(fast)"), ("slow", "\(slow)")] }

    public mutating func prepare(_ setup: inout StrategySetup) throws {
        let f = fast, s = slow
        fastID = setup.indicator("sma_\(f)", symbol: symbol) { rollingMean($0.close, window: f) }
        slowID = setup.indicator("sma_\(s)", symbol: symbol) { rollingMean($0.close, window: s) }
        symbolName = setup.symbols[symbol]
    }

    public mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        guard let fastID, let slowID else { return }
        if market.crossedAbove(fastID, slowID) {
            broker.closePosition(symbolName)
            broker.buy(symbolName)
        } else if market.crossedAbove(slowID, fastID) {
            broker.closePosition(symbolName)
            broker.sell(symbolName)
        }
    }
}
