import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction
import Risk
import Robot
import Simulation

/// `aitrader bench --suite backtest_ensemble`: the robot backtested on the EURUSD H1 sample (data/sample; run from the
/// repository root) with the three models at the design sizes (seeded weights), all on 1h as `make demo` trains them
/// (the sample's 295 days are too short for a daily long_term window), moderate risk profile, cash 10 000:
/// - `backtest_ensemble` {bars: N}: the whole batched backtest — `predictSeries` over the N traded bars, then
///   `Backtester` driving `RobotStrategy` on `PrecomputedPredictions` — with `bars_per_s`, `predict_ms`, `loop_ms`;
/// - `backtest_ensemble_loop` {bars: N}: the event loop alone on the precomputed predictions (breakers, re-weighting,
///   signals, risk, orders, fills), with `bars_per_s`.
/// N: every bar from the first one the robot can decide at (its 271-bar history and the models' windows filled) to
/// the end of the sample; --quick: the last 256.
public enum EnsembleBacktestSuite: BenchSuite {
    public static let name = "backtest_ensemble"
    static let sample = "data/sample/EURUSD_H1.csv"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let dir = NSTemporaryDirectory() + "aitrader-bench-ensemble-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bars = try CSVBarReader().read(path: sample, symbol: "EURUSD", timeframe: .h1)
        let barStore = try ParquetBarStore(root: dir + "/store")
        _ = try barStore.write(bars, source: "bench")
        let store = try FeatureStore(root: dir, bars: barStore)
        var paths: [ModelType: String] = [:]
        for model in ModelType.allCases {
            let set = try store.featureSet(model: model)
            var config = ModelConfiguration.defaults(model)
            config.inputFeatures = set.names.count
            let network = try HorizonModels.make(config, backend: .cpu, seed: 7, trainable: false)
            let frame = try store.features(symbol: "EURUSD", timeframe: .h1, model: model)
            let scaler = FeatureScaler.fit(frame, rows: frame.maxLookback..<frame.count)
            var meta = CheckpointMetadata(featureNames: set.names, scaler: scaler, runID: "bench")
            meta.extra = ["timeframe": "1h", "feature_config_hash": set.configHash]
            paths[model] = dir + "/\(model.rawValue).safetensors"
            try Checkpoint.save(network, metadata: meta, to: paths[model]!)
        }
        var ensembleConfig = EnsembleConfig()
        ensembleConfig.maxDataAgeHours = 0
        func predictor() throws -> EnsemblePredictor {
            try EnsemblePredictor(checkpoints: paths, featureStore: store, ensemble: TechnicalEnsemble(config: ensembleConfig),
                                  backend: backend)
        }
        let settings = RobotSettings(symbols: ["EURUSD"], profile: RiskProfiles.builtIn.profiles["moderate"]!)
        var models = ExecutionModels(slippage: .fixedBps(0.5), commission: .fractionOfNotional(0.00002))
        models.maxLeverage = 2.5
        let config = BacktestConfig(cash: 10_000, models: models, calendars: ["EURUSD": AssetClass.fx.calendar], lookAheadAudit: 0)
        let clock = MarketSimulator(series: [bars])
        let start: Int64
        if options.quick {
            start = clock.closeTime(series: 0, bar: bars.count - 256)
        } else {
            guard let t = EnsembleBacktest.firstDecisionTime(bars: bars, settings: settings, predictor: try predictor()).time else {
                throw BenchError("the sample has no bar the robot can decide at")
            }
            start = t
        }
        let backtest = EnsembleBacktest(settings: settings, config: config)
        if options.includes("backtest_ensemble") || options.includes("backtest_ensemble_loop") {
            // The whole batched backtest, once (minutes with design-size models on 2 CPU threads), with a fresh predictor.
            let p = try predictor()
            let t0 = DispatchTime.now().uptimeNanoseconds
            let run = try backtest.run(bars: bars, start: start, predictor: p)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            let n = run.tradedBars
            if options.includes("backtest_ensemble") { report.results.append(BenchResult(name: "backtest_ensemble", shape: [("bars", n)], ms: ms, runs: 1, extra: [
                ("bars_per_s", Double(n) / (ms / 1e3)), ("predict_ms", run.predictionSeconds * 1e3),
                ("loop_ms", run.backtestSeconds * 1e3), ("trades", Double(run.result.trades.count)),
                ("final_equity", run.result.finalEquity),
            ])) }
            // The event loop alone on those predictions.
            if options.includes("backtest_ensemble_loop") {
                var loopConfig = config
                loopConfig.start = run.result.times.first ?? start
                let runs = options.quick ? 3 : 5
                let loop = try Stopwatch.median(runs: runs, warmup: 1) {
                    var strategy = RobotStrategy(settings: settings, source: PrecomputedPredictions(run.predictions, predictor: p))
                    strategy.recordsHistory = true
                    _ = try Backtester(series: [bars], config: loopConfig).run(&strategy)
                }
                report.results.append(BenchResult(name: "backtest_ensemble_loop", shape: [("bars", n)], ms: loop, runs: runs,
                                                  extra: [("bars_per_s", Double(n) / (loop / 1e3))]))
            }
        }
        return report
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
