/// Moving-average crossover — the reference strategy, with backtesting.py's `SmaCross` semantics:
/// on a bar where SMA(fast) of the close crosses above SMA(slow), close any position and go long with all
/// available equity; on a cross below, close and go short with all available equity. Orders are market orders
/// that fill at the next bar's open; sizes are whole units.
///
/// With a risk profile (`positionFraction`, `stopATRMultiple`) it commits only that fraction of equity and
/// attaches a protective stop `k × ATR(14)` away from the last close (a bracket without target).
///
///     var s = SMACross(fast: 10, slow: 20)
///     let result = try Backtester(series: [bars], config: config).run(&s)
public struct SMACross: TradingStrategy, Sendable {
    public var fast: Int
    public var slow: Int
    /// Which symbol (index into the backtest's series) to trade.
    public var symbol: Int
    /// Fraction of available equity per position (nil: all of it, backtesting.py's default).
    public var positionFraction: Double?
    /// Protective stop distance in ATR(14) multiples (nil: none).
    public var stopATRMultiple: Double?
    private var atrID: IndicatorID?
    private var fastID: IndicatorID?
    private var slowID: IndicatorID?
    private var symbolName = ""

    public init(fast: Int = 10, slow: Int = 20, symbol: Int = 0, positionFraction: Double? = nil,
                stopATRMultiple: Double? = nil) {
        precondition(fast > 0 && slow > 0, "SMA windows must be > 0")
        self.fast = fast
        self.slow = slow
        self.symbol = symbol
        self.positionFraction = positionFraction
        self.stopATRMultiple = stopATRMultiple
    }

    public var name: String { "sma_cross" }
    public var parameters: [(String, String)] {
        var p = [("fast", "\(fast)"), ("slow", "\(slow)")]
        if let positionFraction { p.append(("position_fraction", "\(positionFraction)")) }
        if let stopATRMultiple { p.append(("stop_atr_multiple", "\(stopATRMultiple)")) }
        return p
    }

    public mutating func prepare(_ setup: inout StrategySetup) throws {
        let f = fast, s = slow
        fastID = setup.indicator("sma_\(f)", symbol: symbol) { rollingMean($0.close, window: f) }
        slowID = setup.indicator("sma_\(s)", symbol: symbol) { rollingMean($0.close, window: s) }
        symbolName = setup.symbols[symbol]
        if stopATRMultiple != nil {
            atrID = setup.indicator("atr_14", symbol: symbol) { averageTrueRange($0, period: 14) }
        }
    }

    public mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        guard let fastID, let slowID else { return }
        let up = market.crossedAbove(fastID, slowID)
        guard up || market.crossedAbove(slowID, fastID) else { return }
        broker.closePosition(symbolName)
        let size = positionFraction.map { OrderSize.equityFraction($0) } ?? .allEquity
        var stop: Double?
        if let k = stopATRMultiple, let atrID, let atr = market.value(atrID), atr.isFinite,
           let close = market.close(symbol) {
            stop = up ? close - k * atr : close + k * atr
            if let s = stop, s <= 0 { stop = nil }
        }
        if up { broker.buy(symbolName, size: size, stopLoss: stop) } else { broker.sell(symbolName, size: size, stopLoss: stop) }
    }
}
