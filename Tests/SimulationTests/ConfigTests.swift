import Common
import Foundation
import MarketData
import Testing
@testable import Simulation

@Suite struct SimulationConfigTests {
    @Test func parsesEveryModel() throws {
        let yaml = """
        execution:
          slippage: {model: atr, multiple: 0.2, period: 10}
          commission: {model: per_lot, rate: 3.5, lot_size: 100000, minimum: 1}
          latency_ms: 250
          financing: {long_rate: 0.05, short_rate: -0.01, rollover_hour_utc: 21}
          max_volume_participation: 0.1
          intrabar: bar_direction
          max_leverage: 30
        backtest:
          cash: 50000
          end_of_data: close_at_last_close
          risk_free_rate: 0.02
          look_ahead_audit: 0
        """
        let c = try SimulationConfig.parse(try YAMLNode.parse(yaml, file: "sim.yaml"))
        #expect(c.models.slippage == .atr(multiple: 0.2, period: 10))
        #expect(c.models.commission == .perLot(3.5, lotSize: 100_000, minimum: 1))
        #expect(c.models.latency.milliseconds == 250)
        #expect(c.models.financing == FinancingModel(longRate: 0.05, shortRate: -0.01, rolloverHourUTC: 21))
        #expect(c.models.maxVolumeParticipation == 0.1)
        #expect(c.models.intrabar == .barDirection)
        #expect(c.models.maxLeverage == 30)
        #expect(c.cash == 50_000 && c.endOfData == .closeAtLastClose && c.riskFreeRate == 0.02 && c.lookAheadAudit == 0)
    }

    @Test func errorsNameFileLineAndKey() throws {
        let yaml = "execution:\n  slippage: {model: fixd, bps: 1}\n"
        do {
            _ = try SimulationConfig.parse(try YAMLNode.parse(yaml, file: "sim.yaml"))
            Issue.record("accepted an unknown model")
        } catch {
            #expect("\(error)".hasPrefix("sim.yaml:2:"))
            #expect("\(error)".contains("unknown slippage model 'fixd'"))
        }
        do {
            _ = try SimulationConfig.parse(try YAMLNode.parse("backtest:\n  cash: ten\n", file: "b.yaml"))
            Issue.record("accepted a bad number")
        } catch {
            #expect("\(error)".contains("b.yaml:2:") && "\(error)".contains("cash"))
        }
        do {
            _ = try SimulationConfig.parse(try YAMLNode.parse("execution:\n  slipage: {model: none}\n", file: "c.yaml"))
            Issue.record("accepted a typo")
        } catch {
            #expect("\(error)".contains("c.yaml:2:") && "\(error)".contains("unknown key"))
        }
    }

    @Test func shippedConfigsLoad() throws {
        let root = Fixtures.repositoryRoot
        let c = try SimulationConfig.load(path: root + "/configs/simulation.yaml")
        #expect(c.models.commission == .fractionOfNotional(0.002) && c.models.intrabar == .pessimistic)
        // configs/risk_profiles.yaml is the Risk module's (RiskTests.RiskProfilesTests).
    }
}

@Suite struct MultiSymbolBacktestTests {
    @Test func twoSymbolsTradeIndependentlyOnOneClock() throws {
        let goog = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        // A second symbol: the same bars shifted by half a day (so closes interleave) and scaled.
        let other = BarSeries(symbol: "HALF", timeframe: .d1, timestamps: goog.timestamps.map { $0 + 12 * UTCTime.msPerHour },
                              open: goog.open.map { $0 / 2 }, high: goog.high.map { $0 / 2 },
                              low: goog.low.map { $0 / 2 }, close: goog.close.map { $0 / 2 },
                              volume: goog.volume.array)
        struct Both: TradingStrategy {
            var a = SMACross(fast: 10, slow: 20, symbol: 0, positionFraction: 0.4)
            var b = SMACross(fast: 10, slow: 20, symbol: 1, positionFraction: 0.4)
            var name: String { "both" }
            var parameters: [(String, String)] { [] }
            mutating func prepare(_ setup: inout StrategySetup) throws { try a.prepare(&setup); try b.prepare(&setup) }
            mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
                if market.updated.contains(0) { a.onBar(market, broker: &broker) }
                if market.updated.contains(1) { b.onBar(market, broker: &broker) }
            }
        }
        var s = Both()
        let r = try Backtester(series: [goog, other], config: BacktestConfig(cash: 100_000)).run(&s)
        #expect(r.equity.count == goog.count * 2)
        let googTrades = r.trades.filter { $0.symbol == "GOOG" }, halfTrades = r.trades.filter { $0.symbol == "HALF" }
        #expect(googTrades.count > 50 && halfTrades.count > 50)
        // Each symbol's trades happen at its own bar opens.
        #expect(googTrades.allSatisfy { UTCTime.components($0.entryTime).hour == 0 })
        #expect(halfTrades.allSatisfy { UTCTime.components($0.entryTime).hour == 12 })
        // Accounting identity: final equity = cash + open positions marked at their last closes.
        let last = r.openLots.reduce(0.0) { acc, lot in
            let close = lot.symbol == "GOOG" ? goog.close[goog.count - 1] : other.close[other.count - 1]
            return acc + lot.size * (close - lot.entryPrice)
        }
        #expect(abs(r.finalEquity - (r.cash.last! + last)) < 1e-6)
        // No commission configured: cash = initial cash + realised P&L.
        let realized = r.trades.reduce(0) { $0 + $1.pnl }
        #expect(abs(r.cash.last! - (100_000 + realized)) < 1e-6)
    }
}

@Suite struct CalendarAdapterTests {
    @Test func sessionDaysFollowTheMarket() {
        // Sunday 2024-03-10 22:00 UTC (18:00 New York, EDT): the FX week has opened; that bar trades Monday's date.
        let sundayEvening = UTCTime.milliseconds(year: 2024, month: 3, day: 10, hour: 22)
        let monday = UTCTime.days(year: 2024, month: 3, day: 11)
        #expect(MarketCalendar.fx.sessionDay(at: sundayEvening) == monday)
        #expect(MarketCalendar.fx.isOpen(at: sundayEvening))
        #expect(!MarketCalendar.fx.isOpen(at: UTCTime.milliseconds(year: 2024, month: 3, day: 9, hour: 12)))
        // US equities: 2024-07-04 is a holiday; 20:30 UTC on July 5 is 16:30 New York, after the close.
        #expect(!MarketCalendar.usEquities.isOpen(at: UTCTime.milliseconds(year: 2024, month: 7, day: 4, hour: 15)))
        #expect(MarketCalendar.usEquities.isOpen(at: UTCTime.milliseconds(year: 2024, month: 7, day: 5, hour: 15)))
        #expect(MarketCalendar.usEquities.sessionDay(at: UTCTime.milliseconds(year: 2024, month: 7, day: 6, hour: 1))
                == UTCTime.days(year: 2024, month: 7, day: 5))
        #expect(AssetClass.fx.calendar == .fx && AssetClass.equities.calendar == .usEquities)
    }

    @Test func dayOrdersExpireAtTheFXRollover() throws {
        // Hourly FX bars Monday 2024-03-11 19:00 → 23:00 UTC; the FX day rolls at 21:00 UTC (17:00 EDT).
        let t0 = UTCTime.milliseconds(year: 2024, month: 3, day: 11, hour: 19)
        let bars = BarSeries(symbol: "EURUSD", timeframe: .h1, bars: (0..<5).map {
            Bar(timestamp: t0 + Int64($0) * UTCTime.msPerHour, open: 1.09, high: 1.091, low: $0 == 4 ? 1.08 : 1.089,
                close: 1.09, volume: 0)
        })
        var s = ScriptedStrategy(script: [0: [OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000),
                                                           kind: .limit(1.085), timeInForce: .day)]])
        let r = try Backtester(series: [bars], config: BacktestConfig(calendars: ["EURUSD": MarketCalendar.fx])).run(&s)
        #expect(r.fills.isEmpty)
        #expect(r.orders[0].status == .expired)
        var gtc = ScriptedStrategy(script: [0: [OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000),
                                                             kind: .limit(1.085))]])
        let g = try Backtester(series: [bars], config: BacktestConfig(calendars: ["EURUSD": MarketCalendar.fx])).run(&gtc)
        #expect(g.fills.map(\.price) == [1.085])
    }
}
