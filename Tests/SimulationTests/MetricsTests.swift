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
        #expect(MarketKind.guess(symbol: "EURUSD") == .fx)
        #expect(MarketKind.guess(symbol: "BTC/USD") == .crypto)
        #expect(MarketKind.guess(symbol: "GOOG") == .equities)
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
        let wins = result.trades.filter { $0.pnl > 0 }
        #expect(m.winRate == Double(wins.count) / 93)
        #expect(m.averageWin > 0 && m.averageLoss < 0)
        #expect(abs(m.expectancy - (m.winRate * m.averageWin + (1 - m.winRate) * m.averageLoss)) < 1e-6)
        #expect(m.exposure > 0.9 && m.exposure <= 1)
        #expect(m.turnover > 100)
    }
}
