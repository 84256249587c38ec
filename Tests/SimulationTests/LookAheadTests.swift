import Common
import MarketData
import Testing
@testable import Simulation

/// Records what the view exposes at every decision.
struct Inspector: TradingStrategy {
    var sma: IndicatorID?
    var violations: [String] = []
    var decisions = 0
    var name: String { "inspector" }
    var parameters: [(String, String)] { [] }
    mutating func prepare(_ setup: inout StrategySetup) throws {
        sma = setup.indicator("sma_3") { rollingMean($0.close, window: 3) }
    }
    mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        decisions += 1
        let bars = market.bars()
        guard let last = bars.timestamps.last else { violations.append("no bars"); return }
        // Every visible bar has closed by the decision time.
        if last + bars.timeframe.milliseconds > market.time { violations.append("open bar visible at \(market.time)") }
        if market.close(ago: -1) != nil { violations.append("close(ago: -1) answered") }
        if market.value(sma!, ago: -1) != nil { violations.append("indicator(ago: -1) answered") }
        if market.bar(ago: bars.count) != nil { violations.append("bar before the first answered") }
        if market.close() != bars.close[bars.count - 1] { violations.append("close() is not the last closed bar") }
    }
}

/// An indicator that peeks one bar into the future: tomorrow's close.
func tomorrowsClose(_ bars: BarSeries) -> [Double] {
    (0..<bars.count).map { $0 + 1 < bars.count ? bars.close[$0 + 1] : .nan }
}

/// Goes long when the indicator says the price will rise, short otherwise.
struct Oracle: TradingStrategy {
    var useFuture: Bool
    var signal: IndicatorID?
    var name: String { useFuture ? "oracle" : "honest" }
    var parameters: [(String, String)] { [] }
    mutating func prepare(_ setup: inout StrategySetup) throws {
        signal = useFuture ? setup.indicator("tomorrow", tomorrowsClose) : setup.indicator("today") { $0.close.array }
    }
    mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        guard let s = market.value(signal!), s.isFinite, let c = market.close() else { return }
        let want: Double = s > c ? 1 : s < c ? -1 : 0
        let have = broker.positionSize("GOOG")
        if want > 0, have <= 0 { broker.closePosition("GOOG"); broker.buy("GOOG", size: .units(10)) }
        if want < 0, have >= 0 { broker.closePosition("GOOG"); broker.sell("GOOG", size: .units(10)) }
    }
}

@Suite struct LookAheadTests {
    @Test func theViewExposesOnlyClosedBars() throws {
        let bars = try Fixtures.sample("EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)[0..<300]
        var s = Inspector()
        _ = try Backtester(series: [bars], config: BacktestConfig()).run(&s)
        #expect(s.decisions == 300)
        #expect(s.violations.isEmpty, "\(s.violations.prefix(3))")
    }

    @Test func aPeekingIndicatorIsDetected() throws {
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        var cheat = Oracle(useFuture: true)
        #expect(throws: BacktestError.self) {
            _ = try Backtester(series: [bars], config: BacktestConfig(lookAheadAudit: 4)).run(&cheat)
        }
        do {
            _ = try Backtester(series: [bars], config: BacktestConfig(lookAheadAudit: 4)).run(&cheat)
        } catch {
            guard case .lookAhead(let name, _, _, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(name == "tomorrow")
        }
        // Causal indicators pass the audit.
        var honest = Oracle(useFuture: false)
        _ = try Backtester(series: [bars], config: BacktestConfig(lookAheadAudit: 16)).run(&honest)
        var sma = SMACross(fast: 10, slow: 20, stopATRMultiple: 2)
        _ = try Backtester(series: [bars], config: BacktestConfig(lookAheadAudit: 16)).run(&sma)
    }

    @Test func futureDataWouldChangeTheResult() throws {
        // With the audit off, the same strategy fed tomorrow's close wins almost every trade; fed only closed bars
        // it does not. The engine itself never hands the future to a strategy, so only the indicator can cheat.
        let bars = try Fixtures.sample("GOOG_D1.csv", symbol: "GOOG", timeframe: .d1)
        let config = BacktestConfig(cash: 100_000, lookAheadAudit: 0)
        var cheat = Oracle(useFuture: true), honest = Oracle(useFuture: false)
        let c = try Backtester(series: [bars], config: config).run(&cheat)
        let h = try Backtester(series: [bars], config: config).run(&honest)
        let cheatWins = Double(c.trades.filter { $0.pnl > 0 }.count) / Double(c.trades.count)
        #expect(c.finalEquity != h.finalEquity)
        #expect(c.finalEquity > h.finalEquity)
        #expect(cheatWins > 0.5)
    }

    @Test func runsAreDeterministic() throws {
        let bars = try Fixtures.sample("EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
        let config = BacktestConfig(cash: 10_000, models: ExecutionModels(slippage: .atr(multiple: 0.1),
                                                                         commission: .fractionOfNotional(0.0005)))
        var a = SMACross(fast: 7, slow: 21), b = SMACross(fast: 7, slow: 21)
        let r1 = try Backtester(series: [bars], config: config).run(&a)
        let r2 = try Backtester(series: [bars], config: config).run(&b)
        #expect(r1.equity == r2.equity)
        #expect(r1.trades == r2.trades)
    }
}

@Suite struct MarketSimulatorTests {
    @Test func alignsTimeframesAtBarCloses() {
        let t0 = UTCTime.milliseconds(year: 2024, month: 1, day: 1)
        let hourly = BarSeries(symbol: "EURUSD", timeframe: .h1, bars: (0..<48).map {
            Bar(timestamp: t0 + Int64($0) * UTCTime.msPerHour, open: 1, high: 1, low: 1, close: 1, volume: 0)
        })
        let daily = BarSeries(symbol: "EURUSD_D", timeframe: .d1, bars: (0..<2).map {
            Bar(timestamp: t0 + Int64($0) * UTCTime.msPerDay, open: 1, high: 1, low: 1, close: 1, volume: 0)
        })
        var sim = MarketSimulator(series: [hourly, daily])
        sim.start(at: t0)
        #expect(sim.currentBar("EURUSD") == nil)
        let first = sim.advance(bars: 23)
        #expect(first == 23)
        #expect(sim.currentBar("EURUSD")?.timestamp == t0 + 22 * UTCTime.msPerHour)
        #expect(sim.currentBar("EURUSD_D") == nil)        // the day has not closed yet
        let moved = sim.advance()
        #expect(moved)
        #expect(sim.updated == [0, 1])                     // 24:00 closes the last hour and the day together
        #expect(sim.currentBar("EURUSD_D")?.timestamp == t0)
        #expect(sim.time == t0 + UTCTime.msPerDay)
        let rest = sim.advance(bars: 100)
        #expect(rest == 24)
        #expect(sim.isFinished)
        // Starting later treats earlier bars as history.
        sim.start(at: t0 + 30 * UTCTime.msPerHour)
        sim.advance()
        #expect(sim.currentBar("EURUSD")?.timestamp == t0 + 29 * UTCTime.msPerHour)
    }

    @Test func marketOpenFollowsTheCalendar() {
        struct Weekdays: TradingCalendar {
            func isOpen(at time: Int64) -> Bool { UTCTime.components(time).weekday <= 5 }
            func sessionDay(at time: Int64) -> Int64 { UTCTime.floorDiv(time, UTCTime.msPerDay) }
        }
        let saturday = UTCTime.milliseconds(year: 2024, month: 1, day: 6)
        let bars = BarSeries(symbol: "X", timeframe: .d1, bars: (0..<3).map {
            Bar(timestamp: saturday + Int64($0 - 1) * UTCTime.msPerDay, open: 1, high: 1, low: 1, close: 1, volume: 0)
        })
        var sim = MarketSimulator(series: [bars], calendars: ["X": Weekdays()])
        sim.start(at: 0)
        sim.advance()                       // Friday's bar closes at Saturday 00:00
        #expect(!sim.isMarketOpen("X"))
        sim.advance(bars: 2)                // Sunday's bar closes Monday 00:00
        #expect(sim.isMarketOpen("X"))
        #expect(sim.isMarketOpen("UNKNOWN"))
    }
}
