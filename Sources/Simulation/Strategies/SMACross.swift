import Features

/// Moving-average crossover — the reference strategy, with backtesting.py's `SmaCross` semantics:
/// on a bar where SMA(fast) of the close crosses above SMA(slow), close any position and go long with all
/// available equity; on a cross below, close and go short with all available equity. Orders are market orders
/// that fill at the next bar's open; sizes are whole units. Parameters are checked by `validate()` (and by
/// `prepare`, so a backtest with bad windows throws `BacktestError.invalidParameter`).
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
        self.fast = fast
        self.slow = slow
        self.symbol = symbol
        self.positionFraction = positionFraction
        self.stopATRMultiple = stopATRMultiple
    }

    /// Throws unless `1 <= fast < slow` (with fast >= slow the "fast" average is the slower one), the position
    /// fraction is in (0, 1] and the stop multiple > 0 and finite. `prepare` calls it, and also requires `symbol`
    /// to name a series and `slow` to be shorter than that series (a crossover needs two slow averages).
    public func validate() throws(ParameterError) {
        try ParameterError.check(fast >= 1, "fast", fast, "the fast SMA window must be >= 1")
        try ParameterError.check(slow > fast, "slow", slow, "the slow SMA window must be > fast (\(fast))")
        if let f = positionFraction {
            try ParameterError.check(f > 0 && f <= 1, "position_fraction", f, "must be in (0, 1]")
        }
        if let k = stopATRMultiple {
            try ParameterError.check(k > 0 && k.isFinite, "stop_atr_multiple", k, "must be > 0 and finite")
        }
    }

    public var name: String { "sma_cross" }
    public var parameters: [(String, String)] {
        var p = [("fast", "\(fast)"), ("slow", "\(slow)")]
        if let positionFraction { p.append(("position_fraction", "\(positionFraction)")) }
        if let stopATRMultiple { p.append(("stop_atr_multiple", "\(stopATRMultiple)")) }
        return p
    }

    public mutating func prepare(_ setup: inout StrategySetup) throws {
        try validate()
        try ParameterError.check(symbol >= 0 && symbol < setup.symbols.count, "symbol", symbol,
                                 "must index one of the \(setup.symbols.count) series")
        let bars = setup.series(symbol).count
        try ParameterError.check(slow < bars, "slow", slow,
                                 "a crossover of SMA(\(slow)) needs more than \(slow) bars; the data has \(bars)")
        let f = fast, s = slow
        fastID = setup.indicator("sma_\(f)", symbol: symbol) { rollingMean($0.close, window: f) }
        slowID = setup.indicator("sma_\(s)", symbol: symbol) { rollingMean($0.close, window: s) }
        symbolName = setup.symbols[symbol]
        if stopATRMultiple != nil {
            atrID = setup.indicator("atr_14", symbol: symbol) { Indicators.atr($0, period: 14) }
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
