import Foundation
import MarketData
import Models
import Risk
@testable import Robot
import Simulation
import Testing
import Trading

@Suite struct SignalGeneratorTests {
    func prediction(pUp: Double, direction: Int = 1) -> EnsemblePrediction {
        EnsemblePrediction(symbol: "EURUSD", time: 0, pUp: pUp, alpha: 1, beta: 1, confidence: abs(2 * pUp - 1),
                           direction: direction, agreement: 1, disagreementPenalty: 0, confidenceThreshold: 0,
                           regime: .trending, volatilityPercentile: 0.5, votes: [], dataAge: 0)
    }

    var moderate: RiskProfile {
        RiskProfile(name: "moderate", positionFraction: 0.5, maxLeverage: 1, stopATRMultiple: 2, riskPerTrade: 0.01,
                    maxPositions: 5, maxExposure: 2, dailyLossLimit: 0.03, maxDrawdown: 0.15, minConfidence: 0.6,
                    kellyFraction: 0.25, takeProfitATRMultiple: 2.5, maxConsecutiveLosses: 5, maxOrdersPerMinute: 10)
    }

    @Test func theDocumentedWorkedExample() {
        let g = SignalGenerator(profile: moderate)
        let s = g.signal(for: prediction(pUp: 0.62), close: 1.1, atr: 0.002, position: 0, equity: 10_000,
                         instrument: .guess(symbol: "EURUSD"))
        #expect(s.action == .open && s.direction == 1)
        #expect(s.stopLoss == 1.096 && s.takeProfit == 1.105)
        #expect(abs(s.payoff - 1.25) < 1e-12)
        #expect(abs((s.sizing?.kellyFraction ?? 0) - (0.62 - 0.38 / 1.25)) < 1e-9)
        // Risk per trade alone allows 100 / 0.004 = 25 000 units (notional 27 500); max exposure 2 × 10 000 caps it.
        #expect(s.sizing?.cappedBy == "max_exposure")
        #expect(s.units == 18_181)
    }

    @Test func shortsMirrorAndGatesHold() {
        let g = SignalGenerator(profile: moderate)
        let e = Instrument.guess(symbol: "EURUSD")
        let short = g.signal(for: prediction(pUp: 0.3, direction: -1), close: 1.1, atr: 0.002, position: 0, equity: 10_000, instrument: e)
        #expect(short.action == .open && short.direction == -1 && short.stopLoss == 1.104 && short.takeProfit == 1.095)
        #expect(abs(short.pWin - 0.7) < 1e-12)
        let weak = g.signal(for: prediction(pUp: 0.58), close: 1.1, atr: 0.002, position: 0, equity: 10_000, instrument: e)
        #expect(weak.action == .hold && weak.reason.contains("minimum"))
        let none = g.signal(for: prediction(pUp: 0.7, direction: 0), close: 1.1, atr: 0.002, position: 0, equity: 10_000, instrument: e)
        #expect(none.action == .hold && none.direction == 0)
        let same = g.signal(for: prediction(pUp: 0.7), close: 1.1, atr: 0.002, position: 5_000, equity: 10_000, instrument: e)
        #expect(same.action == .hold && same.reason.contains("already long"))
        let flip = g.signal(for: prediction(pUp: 0.7), close: 1.1, atr: 0.002, position: -5_000, equity: 10_000, instrument: e)
        #expect(flip.action == .reverse && flip.units > 0)
        let noATR = g.signal(for: prediction(pUp: 0.7), close: 1.1, atr: .nan, position: -5_000, equity: 10_000, instrument: e)
        #expect(noATR.action == .close)
    }
}

@Suite(.serialized) struct RobotRunTests {
    /// The backtester and the robot in simulation mode run the same strategy code: same orders, same fills, same equity.
    @Test func theBacktesterAndTheSimulatedRobotDecideAlike() async throws {
        let bars = try RobotFixture.eurusd(bars: 900)
        let start = bars.timestamps[300]
        let source = SyntheticPredictions()

        var strategy = RobotStrategy(settings: RobotFixture.settings(), source: source)
        let config = BacktestConfig(cash: 10_000, models: RobotFixture.models)
        // The backtester walks every bar; give it only the bars the robot trades (history before `start` is its warm-up).
        let result = try Backtester(series: [bars], config: config).run(&strategy)
        _ = result

        let journal = try RobotJournal(path: temporaryPath("journal.sqlite"), durability: .process)
        let mode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: mode,
                                 journal: journal, initialBalance: 10_000)
        let status = try await robot.start()
        let venue = mode.simulatedVenue.snapshot
        #expect(status.cycles == bars.count)
        #expect(venue.orders.map(\.request) == result.orders.map(\.request))
        #expect(venue.fills == result.fills)
        #expect(venue.fills.count > 20)
        #expect(venue.equity == result.equity.last)
        #expect(try journal.orders().filter { $0.cycle >= 0 }.count == result.orders.filter { $0.parentID == nil }.count)
        _ = start
    }

    /// Stopped after some cycles (as if the process died between cycles) and started again on the same journal, the
    /// robot ends exactly where an uninterrupted run ends.
    @Test func aRestartedRobotEndsInTheSameState() async throws {
        let bars = try RobotFixture.eurusd(bars: 600)
        let source = SyntheticPredictions()
        func fresh(_ path: String) throws -> (TradingRobot, SimulationMode) {
            let mode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models)
            return (TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: mode,
                                 journal: try RobotJournal(path: path, durability: .process), initialBalance: 10_000), mode)
        }
        let whole = temporaryPath("whole.sqlite")
        let (a, modeA) = try fresh(whole)
        try await a.start()

        let parts = temporaryPath("parts.sqlite")
        var last: SimulationMode?
        for _ in 0..<4 {
            let (b, modeB) = try fresh(parts)
            try await b.start(maxCycles: 170)
            last = modeB
        }
        let x = modeA.simulatedVenue.snapshot, y = try #require(last).simulatedVenue.snapshot
        #expect(x.orders.map(\.request) == y.orders.map(\.request))
        #expect(x.fills == y.fills)
        #expect(x.equity == y.equity)
        let ja = try RobotJournal(path: whole), jb = try RobotJournal(path: parts)
        #expect(try ja.orders().map(\.clientOrderID) == jb.orders().map(\.clientOrderID))
        #expect(try ja.fills() == jb.fills())
        #expect(try ja.cycleCount() == jb.cycleCount())
    }

    /// A losing streak trips the consecutive-losses breaker: it is journaled, entries are refused while it holds,
    /// and its tripped state survives a restart.
    @Test func aLosingStreakTripsTheBreaker() async throws {
        let bars = try RobotFixture.eurusd(bars: 700)
        var profile = RobotFixture.profile
        profile.maxConsecutiveLosses = 2
        // Always bet against the next move: every trade loses.
        struct Wrong: PredictionSource {
            let bars: BarSeries
            func predictions(symbols: [String], at time: Int64) throws -> [String: EnsemblePrediction] {
                guard let i = bars.timestamps.array.firstIndex(where: { $0 + 3_600_000 == time }), i + 6 < bars.count else { return [:] }
                let up = bars.close[i + 6] > bars.close[i]
                let p = up ? 0.2 : 0.8
                return [symbols[0]: EnsemblePrediction(symbol: symbols[0], time: time, pUp: p, alpha: 1, beta: 1, confidence: 0.6,
                                                       direction: up ? -1 : 1, agreement: 1, disagreementPenalty: 0,
                                                       confidenceThreshold: 0.1, regime: .unknown, volatilityPercentile: 0.5,
                                                       votes: [], dataAge: 0)]
            }
            func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double) {}
        }
        let path = temporaryPath("breaker.sqlite")
        let mode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(profile: profile), source: Wrong(bars: bars)),
                                 mode: mode, journal: try RobotJournal(path: path), initialBalance: 10_000)
        try await robot.start(maxCycles: 400)
        let journal = try RobotJournal(path: path)
        let events = try journal.breakerEvents()
        #expect(events.contains { $0.kind == "consecutive_losses" && $0.tripped })
        #expect(try journal.riskRejectionCount() > 0)
        let state = await robot.state()
        let restored = try RobotJSON.decoder.decode(RobotState.self, from: Data(try #require(try journal.lastCompletedCycle()).state.utf8))
        #expect(restored == state)
    }
}
