import MarketData

/// What a strategy may declare before the run: indicators over each symbol's full series, computed once and
/// served bar by bar through `MarketView` (backtesting.py's `Strategy.I`). Each indicator must be causal — its
/// value at bar i may depend on bars 0...i only; `Backtester` re-checks this on sampled prefixes when
/// `BacktestConfig.lookAheadAudit` > 0 and fails the run otherwise.
public struct StrategySetup {
    public let symbols: [String]
    let series: [BarSeries]
    package var values: [[Double]] = []
    package var symbolOf: [Int] = []
    package var names: [String] = []
    package var compute: [(BarSeries) -> [Double]] = []

    package init(symbols: [String], series: [BarSeries]) {
        self.symbols = symbols
        self.series = series
    }

    public func series(_ symbol: Int = 0) -> BarSeries { series[symbol] }

    /// Registers an indicator of `symbol` computed by `body` over the bars (one value per bar).
    public mutating func indicator(_ name: String, symbol: Int = 0,
                                   _ body: @escaping (BarSeries) -> [Double]) -> IndicatorID {
        let v = body(series[symbol])
        precondition(v.count == series[symbol].count, "indicator '\(name)' must return one value per bar")
        values.append(v)
        symbolOf.append(symbol)
        names.append(name)
        compute.append(body)
        return IndicatorID(index: values.count - 1, symbol: symbol)
    }
}

