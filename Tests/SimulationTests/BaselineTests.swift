import Common
import Foundation
import MarketData
import Testing
@testable import Simulation

/// backtesting.py's `if not self.position: self.buy()` on a sample, with empyrical's statistics of its equity
/// curve (tools/reference/backtest_fixtures.py --buy-and-hold).
struct BuyAndHoldFixture: Decodable {
    let csv: String
    let cash, commission, annualization: Double
    let entry_bar: Int
    let entry_time: String
    let entry_price: Double
    let units: Double
    let final_equity: Double
    let equity: [Double]
    let total_return, cagr, annual_volatility, sharpe, sortino, max_drawdown, calmar: Double
}

/// `BuyAndHoldBaseline` against backtesting.py (trade and equity curve, bit for bit) and empyrical (its return
/// statistics), and in summary.json, report.txt and report.html.
@Suite struct BuyAndHoldBaselineTests {
    static func baseline(_ name: String) throws -> (BuyAndHoldBaseline, BuyAndHoldFixture, BarSeries) {
        let f = try Fixtures.decode(BuyAndHoldFixture.self, name)
        let isFX = f.csv.contains("EURUSD")
        let bars = try Fixtures.sample(URL(fileURLWithPath: f.csv).lastPathComponent, symbol: isFX ? "EURUSD" : "GOOG",
                                       timeframe: isFX ? .h1 : .d1)
        #expect(Annualization.periodsPerYear(timeframe: bars.timeframe, market: isFX ? .fx : .equities)
            == f.annualization)
        let config = BacktestConfig(cash: f.cash, models: .backtestingPy(commission: f.commission))
        return (try BuyAndHoldBaseline(series: bars, config: config, annualization: f.annualization), f, bars)
    }

    @Test(arguments: ["bh_goog_d1.json", "bh_eurusd_h1.json"])
    func matchesBacktestingPyAndEmpyrical(_ name: String) throws {
        let (b, f, bars) = try Self.baseline(name)
        // The trade: all the cash at the second bar's open, whole units, commission on entry.
        let entry = try #require(b.entry)
        #expect(entry.bar == f.entry_bar && f.entry_bar == 1)
        #expect(UTCTime.iso8601(entry.time) == f.entry_time && entry.price == f.entry_price && entry.price == bars.open[1])
        #expect(entry.units == f.units)
        #expect(b.result.fills.count == 1 && b.result.openLots.count == 1 && b.result.trades.isEmpty)
        // The equity curve, point for point, and the final equity: bit-identical.
        #expect(b.result.equity.count == f.equity.count && f.equity.count == bars.count)
        let firstDiff = zip(b.result.equity, f.equity).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDiff == nil, "first difference at \(firstDiff.map { "\($0.offset): \($0.element)" } ?? "")")
        #expect(b.metrics.finalEquity == f.final_equity)
        // empyrical on backtesting.py's curve vs PerformanceMetrics on ours (the same curve): the statistics
        // code is ReturnStatistics, equal to empyrical to ~1e-16 (EmpyricalMetricsTests); 1e-12 relative here.
        let pairs: [(String, Double, Double)] = [
            ("total_return", b.metrics.totalReturn, f.total_return), ("cagr", b.metrics.cagr, f.cagr),
            ("annual_volatility", b.metrics.annualVolatility, f.annual_volatility),
            ("sharpe", b.metrics.sharpe, f.sharpe), ("sortino", b.metrics.sortino, f.sortino),
            ("max_drawdown", b.metrics.maxDrawdown, f.max_drawdown), ("calmar", b.metrics.calmar, f.calmar),
        ]
        for (metric, ours, theirs) in pairs {
            #expect(EmpyricalMetricsTests.relativeError(ours, theirs) < 1e-12, "\(name) \(metric): \(ours) vs \(theirs)")
        }
        #expect(b.metrics.totalReturn == b.metrics.finalEquity / f.cash - 1 || abs(b.metrics.totalReturn
            - (b.metrics.finalEquity / f.cash - 1)) < 1e-12)
    }

    @Test func usesTheStrategysCashAndModelsButNoLeverage() throws {
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        var config = BacktestConfig(cash: 50_000, models: ExecutionModels(slippage: .fixedBps(5),
                                                                          commission: .fractionOfNotional(0.001)))
        config.models.maxLeverage = 3
        let b = try BuyAndHoldBaseline(series: bars, config: config, annualization: 252)
        let entry = try #require(b.entry)
        let price = bars.open[1] * (1 + 5.0 / 10_000)
        #expect(entry.price == price)
        // Unlevered: the units the cash buys at that price and commission, not three times as many.
        #expect(entry.units == (50_000 / (price * 1.001)).rounded(.down))
        #expect(b.result.initialCash == 50_000 && b.metrics.totalCommission == entry.units * price * 0.001)
        // A bad setting is the same typed error as for the strategy.
        #expect(throws: BacktestError.self) {
            try BuyAndHoldBaseline(series: bars, config: BacktestConfig(cash: 0), annualization: 252)
        }
    }

    @Test func reportsCarryTheBaseline() throws {
        let (b, _, bars) = try Self.baseline("bh_goog_d1.json")
        var s = SMACross(fast: 10, slow: 20)
        let config = BacktestConfig(cash: 10_000, models: .backtestingPy(commission: 0.002))
        let r = try Backtester(series: [bars], config: config).run(&s)
        let metrics = PerformanceMetrics(r, annualization: 252)
        let files = ResultFiles(result: r, metrics: metrics, baseline: b)

        let summary = try #require(try JSONSerialization.jsonObject(with: Data(files.summaryJSON().utf8))
            as? [String: Any])
        let bh = try #require(summary["baseline_buy_and_hold"] as? [String: Any])
        // Values bit for bit (JSONDecoder: JSONSerialization parses some doubles 1 ulp off on Linux).
        struct Summary: Decodable { let baseline_buy_and_hold: [String: Double?] }
        let reduced = files.summaryJSON().replacingOccurrences(of: #", "entry_time": "[^"]*""#, with: "",
                                                                 options: .regularExpression)
        let decoded = try JSONDecoder().decode(Summary.self, from: Data(reduced.utf8)).baseline_buy_and_hold
        for (key, value) in b.namedValues {
            #expect(decoded[key] == .some(value), "\(key)")
        }
        #expect(bh["entry_time"] as? String == "2004-08-20T00:00:00Z")
        #expect(bh.keys.sorted() == ["annual_volatility", "cagr", "calmar", "entry_price", "entry_time", "final_equity",
                                     "max_drawdown", "sharpe", "sortino", "total_commission", "total_return", "units"])

        let text = TextReport(result: r, metrics: metrics, baseline: b).render()
        let lines = text.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.contains("Buy & hold") })
        let cagr = try #require(lines.first { $0.hasPrefix("CAGR") })
        #expect(header.hasSuffix("Strategy  Buy & hold") || header.range(of: #"Strategy +Buy & hold$"#,
                                                                           options: .regularExpression) != nil)
        #expect(cagr.hasSuffix(pct(b.metrics.cagr)) && cagr.contains(pct(metrics.cagr)))
        // The column starts at the same offset on every compared row.
        let column = header.range(of: "Buy & hold")!.lowerBound.utf16Offset(in: header)
        #expect(cagr.dropFirst(column).hasPrefix(pct(b.metrics.cagr)))
        #expect(!TextReport(result: r, metrics: metrics).render().contains("Buy & hold"))

        let html = HTMLReport(result: r, metrics: metrics, baseline: b).render()
        #expect(html.contains("Buy &amp; hold") && html.contains("buy &amp; hold</span>"))
        let equitySection = try #require(html.components(separatedBy: "<h2>Equity</h2>").last?
            .components(separatedBy: "<h2>Drawdown").first)
        #expect(equitySection.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(equitySection.contains("stroke=\"#e08a00\""))
    }
}
