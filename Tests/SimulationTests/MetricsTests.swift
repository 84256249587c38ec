import Foundation
import Testing
@testable import Simulation

struct MetricsFixture: Decodable {
    struct Case: Decodable {
        let name: String
        let annualization: Double
        let risk_free_annual: Double
        let returns: [Double]
        let total_return, cagr, annual_volatility, sharpe, sortino, downside_risk, max_drawdown, calmar: Double
    }
    let cases: [Case]
}

/// PerformanceMetrics' return statistics against empyrical (tools/reference/metrics_fixtures.py).
@Suite struct EmpyricalMetricsTests {
    static func relativeError(_ a: Double, _ b: Double) -> Double {
        if a.isNaN && b.isNaN { return 0 }
        return abs(a - b) / max(1e-12, abs(b))
    }

    @Test func matchesEmpyrical() throws {
        let fixture = try Fixtures.decode(MetricsFixture.self, "metrics_empyrical.json")
        #expect(fixture.cases.count == 6)
        var worst = 0.0
        for c in fixture.cases {
            let r = c.returns, ann = c.annualization, rf = c.risk_free_annual / ann
            let pairs: [(String, Double, Double)] = [
                ("total_return", ReturnStatistics.totalReturn(r), c.total_return),
                ("cagr", ReturnStatistics.cagr(r, annualization: ann), c.cagr),
                ("annual_volatility", ReturnStatistics.annualVolatility(r, annualization: ann), c.annual_volatility),
                ("sharpe", ReturnStatistics.sharpe(r, riskFreePerPeriod: rf, annualization: ann), c.sharpe),
                ("sortino", ReturnStatistics.sortino(r, requiredReturn: rf, annualization: ann), c.sortino),
                ("downside_risk", ReturnStatistics.downsideRisk(r, requiredReturn: rf, annualization: ann),
                 c.downside_risk),
                ("max_drawdown", ReturnStatistics.maxDrawdown(r).value, c.max_drawdown),
                ("calmar", ReturnStatistics.calmar(r, annualization: ann), c.calmar),
            ]
            for (name, ours, theirs) in pairs {
                let e = Self.relativeError(ours, theirs)
                worst = max(worst, e)
                #expect(e < 1e-10, "\(c.name) \(name): \(ours) vs empyrical \(theirs)")
            }
        }
        print("max relative error vs empyrical: \(worst)")
    }

    @Test func annualizationFollowsTheCalendar() {
        #expect(Annualization.periodsPerYear(timeframe: .d1, market: .equities) == 252)
        #expect(Annualization.periodsPerYear(timeframe: .d1, market: .crypto) == 365)
        #expect(Annualization.periodsPerYear(timeframe: .h1, market: .fx) == 6240)
        #expect(Annualization.periodsPerYear(timeframe: .h1, market: .equities) == 252 * 7)
        #expect(Annualization.periodsPerYear(timeframe: .m5, market: .equities) == 252 * 78)
        #expect(Annualization.periodsPerYear(timeframe: .w1, market: .fx) == 52)
        #expect(AssetClass.guess(symbol: "EURUSD") == .fx)
        #expect(AssetClass.guess(symbol: "BTC/USD") == .crypto)
        #expect(AssetClass.guess(symbol: "GOOG") == .equities)
    }

    @Test func drawdownDatesAndTradeStatistics() throws {
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        var s = SMACross(fast: 10, slow: 20)
        let result = try Backtester(series: [bars], config: BacktestConfig(cash: 1_000_000,
                                                                           models: .backtestingPy(commission: 0.002)))
            .run(&s)
        let m = PerformanceMetrics(result, annualization: 252)
        #expect(m.numTrades == 93)
        #expect(m.finalEquity == result.finalEquity)
        let start = try #require(m.maxDrawdownStart), end = try #require(m.maxDrawdownEnd)
        #expect(start < end)
        let i = result.barTimes.firstIndex(of: start)!, j = result.barTimes.firstIndex(of: end)!
        #expect(abs((result.equity[j] - result.equity[i]) / result.equity[i] - m.maxDrawdown) < 1e-12)
        #expect(result.equity[...j].max() == result.equity[i])
        // Trade statistics: against backtesting.py in BacktestingPyStatisticsTests.
        #expect(m.exposure > 0.9 && m.exposure <= 1)
        #expect(m.turnover > 100)
    }
}

/// PerformanceMetrics' trade statistics against backtesting.py's summary of the same sma_cross runs (fixtures:
/// tools/reference/backtest_fixtures.py; the trades themselves are bit-identical, see BacktestingPyParityTests).
///
/// The mapping (backtesting.py row -> ours):
/// - `# Trades` -> numTrades; `Win Rate [%]` (share of trades with PnL > 0) -> 100 · winRate.
/// - `Expectancy [%]` (arithmetic mean of the trades' ReturnPct) -> 100 · averageTradeReturn. `Avg. Trade [%]`
///   is the *geometric* mean of ReturnPct, which PerformanceMetrics does not report.
/// - `Best Trade [%]` / `Worst Trade [%]` -> 100 · max / min of ClosedTrade.returnFraction (ReturnPct).
/// - `Profit Factor` sums ReturnPct: Σ positive / |Σ negative| of the trades' returnFraction. PerformanceMetrics'
///   profitFactor sums currency PnL instead, so it is compared with gross profit / |gross loss| of backtesting.py's
///   trade PnL; expectancy (mean PnL, currency) and averageWin / averageLoss likewise with the mean PnL of its
///   trades, of its winners and of its losers.
/// - `Kelly Criterion` = winRate − (1 − winRate) / (averageWin / −averageLoss), both in PnL: from ours.
/// - `Return [%]` -> 100 · totalReturn; `Max. Drawdown [%]` -> 100 · maxDrawdown.
/// - `Exposure Time [%]` counts a trade's entry through exit bar inclusive; ours counts bars that *end* with an
///   open position (sma_cross reverses on the exit bar, and a finalised last trade exits on the last bar, so the
///   two agree). `Commissions [$]` -> totalCommission. backtesting.py leaves the trade still open at the end
///   out of both; ours includes it.
///
/// Tolerances: equal sums in another order. backtesting.py sums with pandas (pairwise), ours left to right; the
/// two sums of n terms each lie within (n − 1)·u·Σ|x| of the exact sum (u = 2⁻⁵³), hence |ours − theirs| ≤
/// 2n·u·Σ|x| (`sumBound`). Compounded returns over N bars drift by at most ~2N·u relative to the equity ratio.
@Suite struct BacktestingPyStatisticsTests {
    static let u = Double.ulpOfOne / 2

    /// |a − b| ≤ 2n·u·Σ|x| + a few ulps of the result: the bound on two orders of summing the same n terms.
    static func sumBound(_ terms: [Double]) -> Double {
        2 * Double(terms.count) * u * terms.reduce(0) { $0 + abs($1) }
    }

    @Test(arguments: BacktestingPyParityTests.cases)
    func tradeStatisticsMatchBacktestingPy(_ name: String) throws {
        let fx = try Fixtures.decode(BacktestFixture.self, name + ".json")
        let result = try fx.runSMACross()
        let m = PerformanceMetrics(result, annualization: 252)
        try Self.expectMatches(m.namedValues, trades: result.trades, bars: result.equity.count, stats: fx.stats,
                               allClosed: fx.finalize_trades, label: name)
    }

    /// Compares PerformanceMetrics' values by their summary.json names (`namedValues`) with backtesting.py's
    /// `stats` of the same run; `trades` are the run's closed trades (bit-identical to backtesting.py's),
    /// `allClosed` whether no position was left open at the end.
    static func expectMatches(_ values: [(String, Double?)], trades: [ClosedTrade], bars: Int, stats s: [String: Double],
                              allClosed: Bool, label name: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        var ours: [String: Double] = [:]
        for case let (k, v?) in values { ours[k] = v }
        func stat(_ key: String) throws -> Double {
            try #require(s[key], "\(name): fixture lacks \(key)", sourceLocation: sourceLocation)
        }
        func metric(_ key: String) throws -> Double {
            try #require(ours[key], "\(name): metrics lack \(key)", sourceLocation: sourceLocation)
        }
        func close(_ ours: Double, _ theirs: Double, _ tolerance: Double, _ what: String) {
            #expect(abs(ours - theirs) <= tolerance,
                    "\(name) \(what): ours \(ours) vs backtesting.py \(theirs) (tolerance \(tolerance))",
                    sourceLocation: sourceLocation)
        }
        let u = Self.u
        let n = Double(trades.count)
        let returns = trades.map(\.returnFraction), pnl = trades.map(\.pnl)
        let wins = pnl.filter { $0 > 0 }, losses = pnl.filter { $0 < 0 }
        let (count, winCount, lossCount) = (try stat("# Trades"), try stat("pnl_wins"), try stat("pnl_losses"))
        #expect(try metric("num_trades") == count && n == count, "\(name): trade count", sourceLocation: sourceLocation)
        #expect(Double(wins.count) == winCount && Double(losses.count) == lossCount, "\(name): winners / losers",
                sourceLocation: sourceLocation)
        // Same count / count division, then the same × 100.
        let winRate = try metric("win_rate")
        #expect(winRate * 100 == (try stat("Win Rate [%]")), "\(name) win rate \(winRate)", sourceLocation: sourceLocation)
        // Same operations per trade (ClosedTrade.returnFraction follows Trade.pl_pct), so max and min are exact.
        #expect(returns.max()! * 100 == (try stat("Best Trade [%]")), "\(name) best trade", sourceLocation: sourceLocation)
        #expect(returns.min()! * 100 == (try stat("Worst Trade [%]")), "\(name) worst trade", sourceLocation: sourceLocation)
        // Means: a sum in another order, divided by n, × 100.
        close(try metric("average_trade_return") * 100, try stat("Expectancy [%]"), 100 * sumBound(returns) / n + 400 * u,
              "average_trade_return vs Expectancy [%]")
        let expectancy = try metric("expectancy")
        close(expectancy, try stat("pnl_mean"), sumBound(pnl) / n + 4 * u * abs(expectancy), "expectancy vs mean PnL")
        // Gross profit / loss: sums of same-signed terms, so the bound is relative: 2n·u of the sum.
        let grossProfit = try stat("pnl_gross_profit"), grossLoss = try stat("pnl_gross_loss")
        let averageWin = try metric("average_win"), averageLoss = try metric("average_loss")
        close(averageWin, grossProfit / winCount, sumBound(wins) / winCount + 4 * u * averageWin,
              "average_win vs mean winning PnL")
        close(averageLoss, grossLoss / lossCount, sumBound(losses) / lossCount + 4 * u * abs(averageLoss),
              "average_loss vs mean losing PnL")
        let pfRelative = 4 * n * u + 4 * u
        let profitFactor = try metric("profit_factor")
        close(profitFactor, grossProfit / abs(grossLoss), pfRelative * profitFactor, "profit_factor vs PnL profit factor")
        // backtesting.py's own Profit Factor: ReturnPct sums.
        let up = returns.filter { $0 > 0 }, down = returns.filter { $0 < 0 }
        let returnProfitFactor = up.reduce(0, +) / abs(down.reduce(0, +))
        close(returnProfitFactor, try stat("Profit Factor"), pfRelative * returnProfitFactor,
              "Σ positive / |Σ negative| returnFraction vs Profit Factor")
        // Kelly = w − (1 − w)/ρ, ρ = averageWin / −averageLoss: ρ is within ~2·pfRelative relative, and
        // (1 − w)/ρ = w − Kelly ≤ 2, so the Kelly error is ≤ 4·pfRelative.
        let kelly = winRate - (1 - winRate) / (averageWin / -averageLoss)
        close(kelly, try stat("Kelly Criterion"), 4 * pfRelative, "Kelly criterion from win_rate, average_win, average_loss")
        // Equity-curve figures: ours compound per-bar returns, theirs divide equity values directly.
        let totalReturn = try metric("total_return"), nBars = Double(bars)
        close(totalReturn * 100, try stat("Return [%]"), 100 * 2 * nBars * u * (1 + abs(totalReturn)),
              "total_return vs Return [%]")
        close(try metric("max_drawdown") * 100, try stat("Max. Drawdown [%]"), 100 * 2 * nBars * u,
              "max_drawdown vs Max. Drawdown [%]")
        close(try metric("final_equity"), try stat("Equity Final [$]"), 0, "final_equity")
        // Exposure and commission: backtesting.py's summary covers closed trades only, ours also the position still
        // open at the end; so they are compared where every trade is closed, and otherwise ours must be the larger.
        let exposure = try stat("Exposure Time [%]"), commissions = try stat("Commissions [$]")
        let ourExposure = try metric("exposure"), ourCommission = try metric("total_commission")
        if allClosed {
            // count / bars × 100 on both sides; theirs is a mean of 0/1 (exact count), so one rounding apart.
            close(ourExposure * 100, exposure, 2 * u * exposure, "exposure vs Exposure Time [%]")
            close(ourCommission, commissions, sumBound(trades.map(\.commission)), "total_commission vs Commissions [$]")
        } else {
            #expect(ourExposure * 100 > exposure && ourCommission > commissions, "\(name): open position at the end",
                    sourceLocation: sourceLocation)
        }
    }
}
