import MarketData
@testable import Simulation
import Testing

/// `BacktestConfig.start`: bars closing before it are history — the strategy sees them, nothing before it is
/// traded, filled or recorded.
@Suite struct BacktestStartTests {
    /// Counts the closed bars it is shown and buys once at its first call.
    struct Probe: TradingStrategy {
        var seen: [Int] = []
        var name: String { "probe" }
        var parameters: [(String, String)] { [] }
        mutating func prepare(_ setup: inout StrategySetup) throws {}
        mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
            if seen.isEmpty { broker.submit(OrderRequest(symbol: market.symbols[0], side: .buy, size: .units(1))) }
            seen.append(market.bars(0).count)
        }
    }

    @Test func historyIsSeenNotTraded() throws {
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        var config = BacktestConfig(cash: 10_000, models: .backtestingPy(commission: 0))
        config.start = bars.timestamps[100] + Timeframe.d1.milliseconds   // the close of bar 100
        var probe = Probe()
        let result = try Backtester(series: [bars], config: config).run(&probe)
        #expect(probe.seen.first == 101 && probe.seen.count == bars.count - 100)
        #expect(result.barTimes.first == bars.timestamps[100] && result.equity.count == bars.count - 100)
        #expect(result.times.first == config.start)
        #expect(result.fills.first?.time == bars.timestamps[101])   // the first bar opening after the decision
        // Without a start every bar is traded and recorded.
        var all = Probe()
        let whole = try Backtester(series: [bars], config: BacktestConfig(cash: 10_000, models: .backtestingPy(commission: 0))).run(&all)
        #expect(all.seen.first == 1 && whole.equity.count == bars.count)
        // A start after the last bar: nothing to backtest.
        config.start = bars.timestamps[bars.count - 1] + 2 * Timeframe.d1.milliseconds
        #expect(throws: BacktestError.noData) { _ = try Backtester(series: [bars], config: config).run(&probe) }
    }
}
