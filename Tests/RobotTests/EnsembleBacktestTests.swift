import Common
import Foundation
import MarketData
import Models
import Prediction
@testable import Robot
import Simulation
import Testing
import Trading

/// The batched backtest path (`predictSeries` once, `PrecomputedPredictions` re-weighted as outcomes arrive,
/// `Backtester`) decides exactly as the live path (`TradingRobot` over `SimulationMode`, `ForecasterPredictions`
/// calling `predict(asOf:)` at each bar close) on the same bars, with small seeded checkpoints.
@Suite(.serialized) struct EnsembleBacktestTests {
    static let traded = 240

    @Test func theBatchedBacktestDecidesAsTheLiveRobot() async throws {
        let f = try EnsembleFixture.get()
        let bars = f.bars
        let clock = MarketSimulator(series: [bars])
        let start = clock.closeTime(series: 0, bar: bars.count - Self.traded)
        let settings = RobotFixture.settings()
        let config = BacktestConfig(cash: 10_000, models: RobotFixture.models)

        let run = try EnsembleBacktest(settings: settings, config: config).run(bars: bars, start: start, predictor: f.predictor())
        #expect(run.tradedBars == Self.traded && run.historyBars == bars.count - Self.traded)
        #expect(run.predictions.count == Self.traded && run.history.cycles == Self.traded)
        #expect(run.result.times.first == start && run.result.equity.count == Self.traded)

        let journal = try RobotJournal(path: temporaryPath("ensemble.sqlite"), durability: .process)
        let mode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models, start: start)
        let live = try f.predictor()
        let robot = TradingRobot(strategy: RobotStrategy(settings: settings, source: ForecasterPredictions(live)), mode: mode,
                                 journal: journal, initialBalance: 10_000)
        let status = try await robot.start()
        #expect(status.cycles == Self.traded)

        // Signals first: a direction could in principle flip where the confidence lies within the float32 batching
        // bound of the threshold (EnsemblePredictor); report any difference in the decision inputs before comparing orders.
        let liveSignals = try journal.signals().map { try RobotJSON.decoder.decode(TradingSignal.self, from: Data($0.body.utf8)) }
        let batchSignals = run.history.signals
        #expect(liveSignals.count == batchSignals.count)
        var largest = 0.0
        for (a, b) in zip(liveSignals, batchSignals) {
            #expect(a.time == b.time && a.action == b.action && a.direction == b.direction && a.units == b.units,
                    "\(UTCTime.iso8601(a.time)): live \(a.action) \(a.direction) \(a.units), batched \(b.action) \(b.direction) \(b.units)")
            largest = max(largest, abs(a.pUp - b.pUp))
            for (m, w) in a.weights { largest = max(largest, abs(w - (b.weights[m] ?? .nan))) }
        }
        // p and the weights: the same Double arithmetic on alpha and beta, which differ by at most 6.1e-5 relative
        // (EnsemblePredictor): a raw p = α/(α+β) moves by at most p(1−p)(δα/α + δβ/β) ≤ 0.25 · 1.22e-4, the Platt
        // slope (a = 6) scales that by at most a/4 = 1.5, and the weighted mean of the models' p keeps the bound: 4.6e-5.
        #expect(largest <= 4.6e-5, "largest p(up)/weight difference \(largest)")
        print("ensemble backtest vs live robot: \(batchSignals.count) signals, largest p(up)/weight difference \(largest), "
            + "\(run.result.fills.count) fills, actions \(run.history.signalsByAction)")

        let venue = mode.simulatedVenue.snapshot
        #expect(venue.orders.map(\.request) == run.result.orders.map(\.request))
        #expect(venue.fills == run.result.fills)
        #expect(venue.equity == run.result.equity.last)
        #expect(run.result.fills.count >= 4, "the robot should trade in this window")
    }

    @Test func tooLittleHistoryIsRefusedNamingWhatIsNeeded() throws {
        let f = try EnsembleFixture.get()
        let bars = f.bars
        let clock = MarketSimulator(series: [bars])
        let backtest = EnsembleBacktest(settings: RobotFixture.settings(), config: BacktestConfig(cash: 10_000, models: RobotFixture.models))
        let early = clock.closeTime(series: 0, bar: 100)
        #expect(throws: EnsembleBacktestError.self) { try backtest.run(bars: bars, start: early, predictor: f.predictor()) }
        do {
            _ = try backtest.run(bars: bars, start: early, predictor: f.predictor())
        } catch {
            #expect("\(error)".contains("100 EURUSD 1h bars close before") && "\(error)".contains("needs 271"), "\(error)")
        }
        // Enough bars for the robot, not for the long model's daily window: predictSeries says what is missing.
        let mid = clock.closeTime(series: 0, bar: 400)
        do {
            _ = try backtest.run(bars: bars, start: mid, predictor: f.predictor())
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("long_term") && "\(error)".contains("needs"), "\(error)")
        }
        let after = clock.closeTime(series: 0, bar: bars.count - 1) + 3_600_000
        do {
            _ = try backtest.run(bars: bars, start: after, predictor: f.predictor())
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("no EURUSD bar closes at or after"), "\(error)")
        }
        let first = EnsembleBacktest.firstDecisionTime(bars: bars, settings: RobotFixture.settings(), predictor: try f.predictor())
        let t = try #require(first.time)
        #expect(t > mid)
        #expect(throws: Never.self) { _ = try f.predictor().predict(symbols: ["EURUSD"], asOf: t) }
        #expect(throws: (any Error).self) { _ = try f.predictor().predict(symbols: ["EURUSD"], asOf: t - 3_600_000) }
    }
}
