import Common

/// The performance summary of a backtest.
///
/// Return-based figures use the per-step simple returns of the equity curve and empyrical's conventions (see
/// `ReturnStatistics`), annualised with `annualization` bars per year (see `Annualization`); trade figures use the
/// closed trades:
///
/// - `winRate`: winning trades (pnl > 0) / trades.
/// - `profitFactor`: gross profit / |gross loss| of trade P&L in currency (NaN without losing trades) — note
///   backtesting.py sums trade *returns* instead.
/// - `expectancy`: mean trade P&L in currency; `averageTradeReturn`: mean trade return net of commission.
/// - `averageWin` / `averageLoss`: mean P&L of winning / losing trades (loss ≤ 0).
/// - `exposure`: fraction of bars that ended with an open position.
/// - `turnover`: Σ |traded value| / mean equity — how many times the capital was traded over the run.
/// - drawdown dates: the bar (open) times of the peak before and the trough of the maximum drawdown, and of the
///   recovery to the old peak (nil if never recovered).
///
///     let m = PerformanceMetrics(result, annualization: 252, riskFreeRate: 0.02)
///     m.sharpe, m.maxDrawdown, m.maxDrawdownStart
public struct PerformanceMetrics: Sendable, Equatable {
    public var initialCash: Double
    public var finalEquity: Double
    public var totalReturn: Double
    public var cagr: Double
    public var annualVolatility: Double
    public var sharpe: Double
    public var sortino: Double
    public var maxDrawdown: Double
    public var maxDrawdownStart: Int64?
    public var maxDrawdownEnd: Int64?
    public var maxDrawdownRecovery: Int64?
    public var calmar: Double
    public var winRate: Double
    public var profitFactor: Double
    public var expectancy: Double
    public var averageTradeReturn: Double
    public var averageWin: Double
    public var averageLoss: Double
    public var exposure: Double
    public var turnover: Double
    public var numTrades: Int
    public var totalCommission: Double
    public var annualization: Double
    public var riskFreeRate: Double
    public var bars: Int
    public var start: Int64?
    public var end: Int64?

    public init(_ result: BacktestResult, annualization: Double, riskFreeRate: Double = 0) {
        let r = result.returns
        let rf = riskFreeRate / annualization
        self.annualization = annualization
        self.riskFreeRate = riskFreeRate
        initialCash = result.initialCash
        finalEquity = result.finalEquity
        totalReturn = ReturnStatistics.totalReturn(r)
        cagr = ReturnStatistics.cagr(r, annualization: annualization)
        annualVolatility = ReturnStatistics.annualVolatility(r, annualization: annualization)
        sharpe = ReturnStatistics.sharpe(r, riskFreePerPeriod: rf, annualization: annualization)
        sortino = ReturnStatistics.sortino(r, requiredReturn: rf, annualization: annualization)
        let dd = ReturnStatistics.maxDrawdown(r)
        maxDrawdown = dd.value
        if dd.value < 0, !result.barTimes.isEmpty {
            maxDrawdownStart = result.barTimes[dd.peak]
            maxDrawdownEnd = result.barTimes[dd.trough]
            let peakEquity = result.equity[dd.peak]
            maxDrawdownRecovery = result.equity[dd.trough...].firstIndex { $0 >= peakEquity }.map { result.barTimes[$0] }
        }
        calmar = ReturnStatistics.calmar(r, annualization: annualization)

        let trades = result.trades
        numTrades = trades.count
        let wins = trades.filter { $0.pnl > 0 }
        let losses = trades.filter { $0.pnl < 0 }
        let grossProfit = wins.reduce(0) { $0 + $1.pnl }
        let grossLoss = losses.reduce(0) { $0 + $1.pnl }
        winRate = trades.isEmpty ? .nan : Double(wins.count) / Double(trades.count)
        profitFactor = grossLoss == 0 ? .nan : grossProfit / abs(grossLoss)
        expectancy = trades.isEmpty ? .nan : trades.reduce(0) { $0 + $1.pnl } / Double(trades.count)
        averageTradeReturn = trades.isEmpty ? .nan
            : trades.reduce(0) { $0 + $1.returnFraction } / Double(trades.count)
        averageWin = wins.isEmpty ? .nan : grossProfit / Double(wins.count)
        averageLoss = losses.isEmpty ? .nan : grossLoss / Double(losses.count)
        exposure = result.exposure.isEmpty ? 0
            : Double(result.exposure.filter { $0 != 0 }.count) / Double(result.exposure.count)
        let meanEquity = result.equity.isEmpty ? result.initialCash
            : result.equity.reduce(0, +) / Double(result.equity.count)
        turnover = meanEquity > 0 ? result.tradedValue / meanEquity : .nan
        totalCommission = result.totalCommission
        bars = result.barCount
        start = result.barTimes.first
        end = result.barTimes.last
    }

    /// Throws unless the annual risk-free rate is finite and > -1 (a rate of -100 % or less has no compounding
    /// meaning; rates are fractions: 0.02 = 2 %).
    public static func validate(riskFreeRate: Double) throws(ParameterError) {
        try ParameterError.check(riskFreeRate > -1 && riskFreeRate.isFinite, "risk_free_rate", riskFreeRate,
                                 "an annual rate must be finite and > -1")
    }

    /// Every metric by its snake_case name (the keys of summary.json), in a stable order.
    public var namedValues: [(String, Double?)] {
        [("initial_cash", initialCash), ("final_equity", finalEquity), ("total_return", totalReturn),
         ("cagr", cagr), ("annual_volatility", annualVolatility), ("sharpe", sharpe), ("sortino", sortino),
         ("max_drawdown", maxDrawdown), ("calmar", calmar), ("win_rate", winRate), ("profit_factor", profitFactor),
         ("expectancy", expectancy), ("average_trade_return", averageTradeReturn), ("average_win", averageWin),
         ("average_loss", averageLoss), ("exposure", exposure), ("turnover", turnover),
         ("num_trades", Double(numTrades)), ("total_commission", totalCommission),
         ("annualization", annualization), ("risk_free_rate", riskFreeRate), ("bars", Double(bars))]
    }

    /// The drawdown and period dates by name (ISO-8601, nil when absent).
    public var namedDates: [(String, String?)] {
        [("start", start.map(UTCTime.iso8601)), ("end", end.map(UTCTime.iso8601)),
         ("max_drawdown_start", maxDrawdownStart.map(UTCTime.iso8601)),
         ("max_drawdown_end", maxDrawdownEnd.map(UTCTime.iso8601)),
         ("max_drawdown_recovery", maxDrawdownRecovery.map(UTCTime.iso8601))]
    }
}
