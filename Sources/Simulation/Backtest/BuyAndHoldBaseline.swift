import MarketData

/// Buy-and-hold of the traded instrument over the same bars: the baseline a strategy's result is judged against.
///
/// `BuyAndHold` run by the same `Backtester` with the same cash, execution models (commission, slippage,
/// latency, financing, participation cap), end-of-data policy and ruin threshold — but leverage 1, since buying
/// and holding means holding what the cash buys — and measured by the same `PerformanceMetrics`. It buys with all
/// equity at the first price a strategy can trade at (the second bar's open: decisions are taken at bar closes)
/// and holds to the end. Its equity curve has one point per bar of the first series, labelled like the
/// strategy's.
///
///     let baseline = try BuyAndHoldBaseline(series: bars, config: config,
///                                           annualization: 252, riskFreeRate: 0)
///     baseline.metrics.cagr, baseline.result.equity
///
/// Matches backtesting.py's `if not self.position: self.buy()` on the same bars (equity curve and trade, to the
/// last bit) and empyrical's statistics on its returns (Tests/SimulationTests/BaselineTests).
public struct BuyAndHoldBaseline: Sendable {
    public var result: BacktestResult
    public var metrics: PerformanceMetrics

    public init(result: BacktestResult, metrics: PerformanceMetrics) {
        self.result = result
        self.metrics = metrics
    }

    /// Runs buy-and-hold on `series` with `config`'s settings (leverage 1, no look-ahead audit, no progress bar)
    /// and measures it with `annualization` and `riskFreeRate` — pass the strategy run's values.
    public init(series: BarSeries, config: BacktestConfig, annualization: Double,
                riskFreeRate: Double = 0) throws(BacktestError) {
        var c = config
        c.models.maxLeverage = 1
        c.lookAheadAudit = 0
        c.progress = false
        var hold = BuyAndHold()
        result = try Backtester(series: [series], config: c).run(&hold)
        metrics = PerformanceMetrics(result, annualization: annualization, riskFreeRate: riskFreeRate)
    }

    /// The entry fill (first fill of the run), nil when the cash never bought one unit.
    public var entry: Fill? { result.fills.first }

    /// The summary.json object: the return metrics, final equity, commission and the entry.
    public var namedValues: [(String, Double?)] {
        let m = metrics
        return [("final_equity", m.finalEquity), ("total_return", m.totalReturn), ("cagr", m.cagr),
                ("annual_volatility", m.annualVolatility), ("sharpe", m.sharpe), ("sortino", m.sortino),
                ("max_drawdown", m.maxDrawdown), ("calmar", m.calmar), ("total_commission", m.totalCommission),
                ("units", entry?.units), ("entry_price", entry?.price)]
    }
}
