import Common
import Engine
import Foundation
import MarketData
import Models
import Prediction
import Risk
import Robot
import Serving
import Simulation
import Trading

/// `aitrader bench --suite robot`: the trading robot's cycle with the design-size ensemble, as a live robot runs it
/// (the `TradingRobot` actor over `SimulationMode`, predictions bar by bar through `EnsemblePredictor.predict`, a
/// journal on disk with `durability: .full` — an fsync per commit, as paper and live sessions use):
/// - `robot_cycle` {symbols: 1} and {symbols: 8}: median and p99 ms from the bar close reaching the robot to its
///   orders sent (the robot's own measurement: venue sync, breakers, prediction, signals, risk, journal, sends),
///   and for 8 symbols `ratio_to_1` (the eight go through each network as one batch).
/// - `robot_cycle_without_models` {symbols: 1, 8}: the same cycle with the predictions computed beforehand
///   (`predictSeries`, outside the timing) — what the robot itself costs around the networks.
/// - `robot_cycle_remote` {symbols: 1, 8}: the same cycle with the networks on an `InferenceService` on 127.0.0.1
///   (the robot's `--inference-url`: features here, one binary request per model per cycle, batching on), with
///   `ratio_to_inprocess` (median over `robot_cycle`'s). Server and robot share the host's cores.
/// Bars and checkpoints: the prediction suite's (seeded 1h random walks, seeded design-size weights, the moderate
/// risk profile but every p_win accepted, so orders flow).
public enum RobotSuite: BenchSuite {
    public static let name = "robot"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let dir = NSTemporaryDirectory() + "aitrader-bench-robot-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (predictor, symbols, series) = try PredictionSuite.fixture(dir: dir, backend: backend)
        let cycles = options.quick ? 12 : 120
        let end = series[0].timestamps[series[0].count - 1] + PredictionSuite.hour
        var profile = RiskProfiles.builtIn.profiles["moderate"]!
        profile.minConfidence = 0.5
        profile.maxPositions = 8
        let start = end - Int64(cycles) * PredictionSuite.hour + 1
        var inProcess: [Int: Double] = [:]
        for name in ["robot_cycle", "robot_cycle_without_models", "robot_cycle_remote"] {
            guard options.includes(name) else { continue }
            var server: InferenceService?
            defer { server?.shutdown() }
            var remote: EnsemblePredictor?
            if name == "robot_cycle_remote" {
                let service = InferenceService(repository: dir + "/checkpoints", backend: backend,
                                               configuration: ServiceConfiguration(port: 0, pollSeconds: 0))
                try service.start()
                server = service
                let networks = try RemoteNetworks(InferenceClientConfiguration(url: "http://127.0.0.1:\(service.port)"))
                remote = try EnsemblePredictor(checkpoints: predictor.checkpoints, featureStore: predictor.featureStore,
                                               ensemble: predictor.ensemble, placement: .remote(networks))
            }
            var one = 0.0
            for count in [1, 8] {
                let chosen = Array(symbols.prefix(count))
                let source: any PredictionSource
                switch name {
                case "robot_cycle": source = ForecasterPredictions(predictor)
                case "robot_cycle_remote": source = ForecasterPredictions(remote!)
                default:
                    var all: [EnsemblePrediction] = []
                    for s in chosen { all += try predictor.predictSeries(symbol: s, from: start, to: end) }
                    source = PrecomputedPredictions(all)
                }
                let mode = SimulationMode(series: Array(series.prefix(count)), cash: 100_000, models: ExecutionModels(maxLeverage: 1),
                                          start: start, end: end)
                let journal = try RobotJournal(path: dir + "/journal-\(name)-\(count).sqlite", durability: .full)
                let settings = RobotSettings(symbols: chosen, profile: profile)
                let robot = TradingRobot(strategy: RobotStrategy(settings: settings, source: source), mode: mode, journal: journal,
                                         initialBalance: 100_000)
                let status = try await robot.start()
                let median = status.latencyMedianMs ?? .nan, p99 = status.latencyP99Ms ?? .nan
                if count == 1 { one = median }
                if name == "robot_cycle" { inProcess[count] = median }
                var extra: [(String, Double)] = [("p99_ms", p99), ("cycles", Double(status.cycles)),
                                                 ("orders", Double(status.ordersSubmitted))]
                if count > 1 { extra.append(("ratio_to_1", median / one)) }
                if name == "robot_cycle_remote", let base = inProcess[count] { extra.append(("ratio_to_inprocess", median / base)) }
                report.results.append(BenchResult(name: name, shape: [("symbols", count)], ms: median, runs: status.cycles,
                                                  extra: extra))
            }
        }
        return report
    }
}
