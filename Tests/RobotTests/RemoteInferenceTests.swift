import Common
import EnsembleTestSupport
import Foundation
import MarketData
import Models
import Prediction
import Risk
@testable import Robot
import Serving
import Simulation
import Testing
import Trading

/// The robot with its forward passes on a running inference server (`aitrader serve`'s `InferenceService` on
/// 127.0.0.1, serving the fixture's checkpoints) against the same robot with the networks in process: the same
/// signals, orders, fills and equity; a server that cannot stand in for the checkpoints refused at start; a server
/// stopped mid-session is stale data (journaled, alerted, the stale-data breaker), not a crash, and the session
/// trades again once it is back.
@Suite(.serialized) struct RemoteInferenceTests {
    static let traded = 240

    func serve(_ directory: String, port: Int = 0) throws -> InferenceService {
        let service = InferenceService(repository: directory, backend: .cpu,
                                       configuration: ServiceConfiguration(port: port, pollSeconds: 0))
        let failed = try service.start()
        #expect(failed.isEmpty, "\(failed)")
        return service
    }

    func remotePredictor(_ f: EnsembleFixture, port: Int, timeout: Double = 10) throws -> EnsemblePredictor {
        var config = EnsembleConfig()
        config.maxDataAgeHours = 0
        let remote = try RemoteNetworks(InferenceClientConfiguration(url: "http://127.0.0.1:\(port)", timeoutSeconds: timeout,
                                                                     maxRetryWaitSeconds: timeout))
        return try EnsemblePredictor.load(checkpointsDirectory: f.checkpoints, store: f.featureStore, ensembleConfig: config,
                                          placement: .remote(remote))
    }

    func session(_ source: any PredictionSource, bars: BarSeries, start: Int64, settings: RobotSettings,
                 alerts: any AlertSink = AlertRecorder()) throws -> (TradingRobot, RobotJournal, SimulationMode) {
        let journal = try RobotJournal(path: temporaryPath("remote.sqlite"), durability: .process)
        let mode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models, start: start)
        let robot = TradingRobot(strategy: RobotStrategy(settings: settings, source: source), mode: mode, journal: journal,
                                 initialBalance: 10_000, alerts: alerts)
        return (robot, journal, mode)
    }

    @Test func aSessionWithRemotePredictionsDecidesAsWithInProcessOnes() async throws {
        let f = try EnsembleFixture.get()
        let service = try serve(f.checkpoints)
        defer { service.shutdown() }
        let start = MarketSimulator(series: [f.bars]).closeTime(series: 0, bar: f.bars.count - Self.traded)
        let settings = RobotFixture.settings()

        let (local, localJournal, localMode) = try session(ForecasterPredictions(try f.predictor()), bars: f.bars, start: start,
                                                            settings: settings)
        let a = try await local.start()
        let (remote, remoteJournal, remoteMode) = try session(ForecasterPredictions(try remotePredictor(f, port: service.port)),
                                                               bars: f.bars, start: start, settings: settings)
        let b = try await remote.start()
        #expect(a.cycles == Self.traded && b.cycles == Self.traded)

        // Each cycle sends one request per model with the robot's one row; the server runs it alone in its pass on
        // the same CPU backend and the floats travel as raw bytes, so alpha and beta are expected bit-equal. The
        // bound held is the batching one anyway (a server may coalesce other clients' rows with the robot's:
        // alpha, beta within 6.1e-5 relative, hence p(up) and the weights within 4.6e-5 — EnsembleBacktestTests).
        let x = try localJournal.signals().map { try RobotJSON.decoder.decode(TradingSignal.self, from: Data($0.body.utf8)) }
        let y = try remoteJournal.signals().map { try RobotJSON.decoder.decode(TradingSignal.self, from: Data($0.body.utf8)) }
        #expect(x.count == Self.traded && y.count == x.count)
        var largest = 0.0
        for (l, r) in zip(x, y) {
            #expect(l.time == r.time && l.action == r.action && l.direction == r.direction && l.units == r.units,
                    "\(UTCTime.iso8601(l.time)): in process \(l.action) \(l.units), remote \(r.action) \(r.units)")
            largest = max(largest, abs(l.pUp - r.pUp))
            for (m, w) in l.weights { largest = max(largest, abs(w - (r.weights[m] ?? .nan))) }
            for (pl, pr) in zip(l.prediction?.votes ?? [], r.prediction?.votes ?? []) {
                largest = max(largest, abs(pl.alpha - pr.alpha) / pl.alpha, abs(pl.beta - pr.beta) / pl.beta)
            }
        }
        #expect(largest <= 4.6e-5, "largest difference \(largest)")
        print("remote vs in-process robot: \(x.count) signals, largest p(up)/weight/alpha/beta difference \(largest)")
        let lv = localMode.simulatedVenue.snapshot, rv = remoteMode.simulatedVenue.snapshot
        #expect(lv.orders.map(\.request) == rv.orders.map(\.request) && lv.fills == rv.fills && lv.equity == rv.equity)
        #expect(lv.fills.count >= 4, "the robot should trade in this window")
        #expect(try remoteJournal.problems().isEmpty)
    }

    @Test func aServerThatIsNotTheRobotsCheckpointsIsRefusedAtStart() throws {
        let f = try EnsembleFixture.get()
        let other = try copyCheckpoints(f)
        defer { try? FileManager.default.removeItem(atPath: other) }
        // short_term with a 16-bar window instead of 24.
        let config = SmallEnsembleCheckpoints.configs[.shortTerm]!.replacingOccurrences(of: "\"sequence_length\":24", with: "\"sequence_length\":16")
        try SmallEnsembleCheckpoints.write(.shortTerm, seed: 21, to: other + "/short_term/best.safetensors", featureStore: f.featureStore,
                                           platt: (6, 0.02), config: config)
        // medium_term with the same shapes and features but other weights.
        try SmallEnsembleCheckpoints.write(.mediumTerm, seed: 99, to: other + "/medium_term/best.safetensors",
                                           featureStore: f.featureStore, platt: (6, 0.02))
        let service = try serve(other)
        defer { service.shutdown() }
        do {
            _ = try remotePredictor(f, port: service.port)
            Issue.record("expected a refusal")
        } catch {
            let text = "\(error)"
            #expect(text.contains("the inference server at http://127.0.0.1:\(service.port) cannot stand in for \(f.checkpoints)/short_term/best.safetensors"), "\(text)")
            #expect(text.contains("its short_term takes 'x' as FP32 [-1, 16, "), "\(text)")
            #expect(text.contains(", the checkpoint FP32 [-1, 24, "), "\(text)")
        }
        try FileManager.default.removeItem(atPath: other + "/short_term/best.safetensors")
        try FileManager.default.copyItem(atPath: f.checkpoints + "/short_term/best.safetensors", toPath: other + "/short_term/best.safetensors")
        try service.repository.load("short_term")
        do {
            _ = try remotePredictor(f, port: service.port)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("its medium_term runs another checkpoint (sha256 "), "\(error)")
        }
        // Nothing listening: the address and what to do.
        let port = service.port
        service.shutdown()
        do {
            _ = try remotePredictor(f, port: port)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains("cannot reach the inference server at http://127.0.0.1:\(port)"), "\(error)")
        }
    }

    @Test func aServerStoppedMidSessionIsStaleDataThenTradingResumes() async throws {
        let f = try EnsembleFixture.get()
        let service = Box(try serve(f.checkpoints))
        let port = service.value.port
        let start = MarketSimulator(series: [f.bars]).closeTime(series: 0, bar: f.bars.count - 60)
        var settings = RobotFixture.settings()
        settings.breakers = BreakerConfig.builtIn.forBarInterval(Timeframe.h1.milliseconds)   // 3 bars: 3 h
        let alerts = AlertRecorder()
        let (robot, journal, _) = try session(ForecasterPredictions(try remotePredictor(f, port: port, timeout: 2)), bars: f.bars,
                                              start: start, settings: settings, alerts: alerts)
        let statuses = StatusLog()
        // 5 cycles served, the server stopped for 6 bar closes, then started again on the same port for 4.
        let status = try await robot.start(maxCycles: 15, onCycle: { status, log in
            statuses.add(status, log)
            if status.cycles == 5 { service.value.shutdown() }
            if status.cycles == 11 { service.value = (try? serve(f.checkpoints, port: port)) ?? service.value }
        })
        defer { service.value.shutdown() }
        #expect(status.cycles == 15)
        let logs = statuses.logs
        let failedTimes = logs.filter { $0.predictionFailure != nil }.map(\.time)
        #expect(failedTimes == logs[5..<11].map(\.time), "failed at \(failedTimes.map(UTCTime.iso8601))")
        for log in logs[5..<11] {
            #expect(log.signals.isEmpty && log.submitted.filter { $0.tag == "ensemble" }.isEmpty)
            #expect(log.predictionFailure?.contains("inference server") == true && log.predictionFailure?.contains("127.0.0.1:\(port)") == true,
                    "\(log.predictionFailure ?? "")")
        }
        // The newest prediction ages a bar per failed close: 1, 2, 3 h within the limit, the fourth trips the breaker.
        #expect(logs[5..<11].map(\.dataAge) == (1...6).map { Int64($0) * 3_600_000 })
        let events = try journal.breakerEvents().filter { $0.kind == "stale_data" }
        #expect(events.map(\.tripped) == [true, false] && events.map(\.time) == [logs[8].time, logs[11].time], "\(events)")
        #expect(logs[11].signals.count == 1 && logs[11].predictionFailure == nil && logs[11].dataAge == 0)
        // Journaled and alerted: every failed close; the trip as critical; the recovery.
        let problems = try journal.problems()
        #expect(problems.map(\.time) == Array(failedTimes) && problems.allSatisfy { $0.text.hasPrefix("prediction failed: ") })
        let sent = alerts.alerts
        #expect(sent.filter { $0.key == "prediction-failed" }.map(\.level) == [.warning, .warning, .warning, .critical, .warning, .warning])
        #expect(sent.filter { $0.key == "prediction-restored" }.count == 1)
        #expect(statuses.all[7].lastProblem?.contains("prediction failed") == true && statuses.all[7].dataAgeMs == 3 * 3_600_000)
        #expect(status.lastProblem == nil && status.breakers.isEmpty)

        // `robot replay`'s source: the journaled predictions and failures decide the same, breakers included.
        let predictions = try journal.signals().compactMap { try RobotJSON.decoder.decode(TradingSignal.self, from: Data($0.body.utf8)).prediction }
        let failures = Dictionary(try journal.problems().map { ($0.time, String($0.text.dropFirst("prediction failed: ".count))) },
                                  uniquingKeysWith: { a, _ in a })
        let (replay, replayed, _) = try session(PrecomputedPredictions(predictions, failures: failures), bars: f.bars, start: start,
                                                settings: settings)
        try await replay.start(maxCycles: 15)
        #expect(try replayed.signals().map(\.body) == journal.signals().map(\.body))
        #expect(try replayed.breakerEvents() == journal.breakerEvents())
        #expect(try replayed.problems().map(\.text) == journal.problems().map(\.text))
    }

    func copyCheckpoints(_ f: EnsembleFixture) throws -> String {
        let dir = temporaryPath("checkpoints-copy")
        try FileManager.default.copyItem(atPath: f.checkpoints, toPath: dir)
        return dir
    }
}

/// A value the test's callbacks swap (the server, restarted).
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Every status and cycle log of a run.
final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [RobotStatus] = []
    private var cycleLogs: [RobotStrategy.CycleLog] = []
    func add(_ s: RobotStatus, _ l: RobotStrategy.CycleLog) { lock.withLock { statuses.append(s); cycleLogs.append(l) } }
    var all: [RobotStatus] { lock.withLock { statuses } }
    var logs: [RobotStrategy.CycleLog] { lock.withLock { cycleLogs } }
}
