import Common
import Foundation
import MarketData
import Testing
@testable import Simulation

/// Goes long with all equity when flat and closes when long, on every bar: with a 30 % commission each round trip
/// burns about half the equity until the account cannot buy one unit and every buy is rejected.
struct RoundTripper: TradingStrategy {
    var name: String { "round_tripper" }
    var parameters: [(String, String)] { [] }
    mutating func prepare(_ setup: inout StrategySetup) throws {}
    mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        if broker.positionSize("TEST") == 0 { broker.buy("TEST") } else { broker.closePosition("TEST") }
    }
}

@Suite struct RuinTests {
    let flat = makeSeries(Array(repeating: (10.0, 10.0, 10.0, 10.0), count: 60))

    func losingRun(ruinFraction: Double = BacktestConfig.defaultRuinFraction) throws -> BacktestResult {
        var s = RoundTripper()
        let config = BacktestConfig(cash: 10_000, models: ExecutionModels(commission: .fractionOfNotional(0.3)),
                                    ruinFraction: ruinFraction)
        return try Backtester(series: [flat], config: config).run(&s)
    }

    @Test func aLosingRunThatEndsWithRejectionsIsRuinedNotWipedOut() throws {
        let r = try losingRun()
        // Not wiped out: equity stays positive, just too small to buy one unit at 10 + 30 % commission.
        #expect(!r.wipedOut)
        #expect(r.finalEquity > 0 && r.finalEquity < 13)
        #expect(r.barCount == 60)
        let rejected = r.orders.filter { $0.status == .rejected }
        #expect(rejected.count > 10)
        #expect(rejected.allSatisfy { $0.reason == .insufficientMargin })
        #expect(r.rejectedOrders == rejected.count)
        #expect(r.rejectionsByReason.map(\.reason) == ["insufficient_margin"])
        #expect(r.rejectionsByReason.first?.count == rejected.count)
        // Ruin: the first bar close at or below 1 % of 10 000, found independently here.
        let first = try #require(r.equity.firstIndex { $0 <= 100 })
        #expect(r.equity[first - 1] > 100)
        #expect(r.ruinIndex == first && r.ruined)
        #expect(r.ruinTime == r.barTimes[first] && r.ruinEquity == r.equity[first])
        // Every order after the account fell below one unit's cost was rejected (the last, decided at the last
        // close, never reached a bar and was cancelled at the end of the data).
        #expect(r.orders.dropLast().last?.status == .rejected)
        #expect(r.orders.last?.reason == .endOfData)
    }

    @Test func ruinFractionZeroMeansOnlyAWipeOut() throws {
        let r = try losingRun(ruinFraction: 0)
        #expect(!r.ruined && r.ruinTime == nil && r.rejectedOrders > 10)
    }

    @Test func aWipeOutIsRuinAtTheWipeOutBar() throws {
        let bars = makeSeries([(100, 101, 99, 100), (100, 101, 99, 100), (100, 100, 30, 30), (30, 31, 29, 30)])
        let r = try runScript(bars, [0: [buy(1_500)]], models: ExecutionModels(maxLeverage: 2), cash: 100_000)
        #expect(r.wipedOut)
        #expect(r.ruinIndex == 2 && r.ruinEquity == 0 && r.ruinTime == bars.timestamps[2])
        #expect(r.rejectedOrders == 0 && r.rejectionsByReason.isEmpty)
    }

    @Test func aProfitableRunIsNotRuined() throws {
        let bars = makeSeries((0..<30).map { i in let p = 100 + Double(i); return (p, p + 1, p - 1, p + 0.5) })
        let r = try runScript(bars, [0: [buy(10)]])
        #expect(!r.ruined && !r.wipedOut && r.rejectedOrders == 0)
    }

    @Test func summaryAndReportsStateRuinAndRejections() throws {
        let r = try losingRun()
        let metrics = PerformanceMetrics(r, annualization: 6240)
        let files = ResultFiles(result: r, metrics: metrics)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(files.summaryJSON().utf8))
            as? [String: Any])
        #expect(summary["wiped_out"] as? Bool == false)
        #expect(summary["ruined"] as? Bool == true)
        #expect(summary["ruin_time"] as? String == UTCTime.iso8601(r.barTimes[r.ruinIndex!]))
        #expect((summary["ruin_equity"] as? NSNumber)?.doubleValue == r.ruinEquity)
        #expect((summary["ruin_fraction"] as? NSNumber)?.doubleValue == 0.01)
        #expect((summary["rejected_orders"] as? NSNumber)?.intValue == r.rejectedOrders)
        let byReason = try #require(summary["rejected_orders_by_reason"] as? [String: Any])
        #expect((byReason["insufficient_margin"] as? NSNumber)?.intValue == r.rejectedOrders)

        let text = TextReport(result: r, metrics: metrics).render()
        let line = text.split(separator: "\n").first { $0.hasPrefix("Rejected orders") }
        #expect(line?.hasSuffix("  \(r.rejectedOrders) (insufficient_margin \(r.rejectedOrders))") == true)
        #expect(text.contains("RUINED") && text.contains("<= 1.00 % of initial cash at \(UTCTime.plain(r.ruinTime!))"))
        let html = HTMLReport(result: r, metrics: metrics).render()
        #expect(html.contains("<b>Ruined</b> at \(UTCTime.plain(r.ruinTime!))"))
        #expect(html.contains("\(r.rejectedOrders) orders rejected: insufficient_margin \(r.rejectedOrders)"))

        let fine = try runScript(makeSeries([(1, 1, 1, 1), (1, 1, 1, 1)]), [:])
        let fineSummary = ResultFiles(result: fine, metrics: PerformanceMetrics(fine, annualization: 252)).summaryJSON()
        #expect(fineSummary.contains("\"ruined\": false") && fineSummary.contains("\"ruin_time\": null"))
        #expect(fineSummary.contains("\"rejected_orders\": 0") && fineSummary.contains("\"rejected_orders_by_reason\": {}"))
    }
}
