import Common
import Foundation
import MarketData
import Testing
@testable import Simulation

/// sma_cross against backtesting.py 0.6 (fixtures: tools/reference/backtest_fixtures.py).
@Suite struct BacktestingPyParityTests {
    static let cases = ["bt_eurusd_h1_10_20", "bt_eurusd_h1_5_30_final", "bt_goog_d1_10_20", "bt_goog_d1_10_20_cash10k",
                        "bt_goog_d1_20_50_final"]

    @Test(arguments: cases)
    func tradesAndFinalEquityMatch(_ name: String) throws {
        let fx = try Fixtures.decode(BacktestFixture.self, name + ".json")
        let result = try fx.runSMACross()
        #expect(result.trades.count == fx.trades.count)
        // Bit-exact: the broker's arithmetic follows backtesting.py's operation by operation.
        for (t, e) in zip(result.trades, fx.trades) {
            #expect(t.size == e.size)
            #expect(UTCTime.iso8601(t.entryTime) == e.entry_time)
            #expect(UTCTime.iso8601(t.exitTime) == e.exit_time)
            #expect(t.entryBar == e.entry_bar)
            #expect(t.exitBar == e.exit_bar)
            #expect(t.entryPrice == e.entry_price)
            #expect(t.exitPrice == e.exit_price)
            #expect(t.pnl == e.pnl)
            #expect(t.commission == e.commission)
        }
        #expect(result.finalEquity == fx.final_equity)
        #expect(result.equity == fx.equity)
    }

    @Test func rollingMeanIsBitIdenticalToPandasOnSamples() throws {
        // Crossovers decided by the last bit must agree: the strategy's SMA reproduces pandas' rolling mean.
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        let m = rollingMean(bars.close, window: 3)
        #expect(m[0].isNaN && m[1].isNaN)
        #expect(abs(m[2] - (bars.close[0] + bars.close[1] + bars.close[2]) / 3) < 1e-12)
        // pandas' corrections: a constant window returns the value itself; no sign flips from rounding.
        #expect(Array(rollingMean([0.1, 0.1, 0.1, 0.1], window: 3)[2...]) == [0.1, 0.1])
        #expect(rollingMean([1e-17, 3, -3, 1e-17], window: 2)[3] == -1.5 + 5e-18)
    }
}
