import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction

/// `aitrader bench --suite prediction`: the ensemble on stored bars, the robot's calls, with the three models at the
/// design sizes on the trader profile (short_term 1h, medium_term 4h and long_term 1d resampled from stored 1h bars;
/// configs/features' feature sets; seeded weights):
/// - `prediction_predict` {symbols: 1}: one live call (store → features → the three networks → ensemble), median ms;
/// - `prediction_predict` {symbols: 8}: eight symbols batched through each network, with `ratio_to_1`;
/// - `prediction_series` {bars: N}: `predictSeries` over N hourly decision times, with `bars_per_s`.
/// Bars: seeded random walks, 12,000 hourly bars per symbol (500 days: enough for long_term's 199-day warm-up and
/// 128-day window), written to a scratch store. Run from the repository root (configs/features).
public enum PredictionSuite: BenchSuite {
    public static let name = "prediction"
    static let hourly = 12_000
    static let hour: Int64 = 3_600_000

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let quick = options.quick
        let dir = NSTemporaryDirectory() + "aitrader-bench-prediction-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (predictor, symbols, _) = try fixture(dir: dir, backend: backend)
        let end = Int64(1_600_000_000_000) + Int64(hourly) * hour
        var one = 0.0
        for count in [1, 8] where options.includes("prediction_predict") {
            let ms = try Stopwatch.median(runs: quick ? 3 : 30, warmup: 2) {
                _ = try predictor.predict(symbols: Array(symbols.prefix(count)), asOf: end)
            }
            if count == 1 { one = ms }
            report.results.append(BenchResult(name: "prediction_predict", shape: [("symbols", count)], ms: ms, runs: quick ? 3 : 30,
                                              extra: count == 1 ? [] : [("ratio_to_1", ms / one)]))
        }
        if options.includes("prediction_series") {
            let n = quick ? 256 : 2048
            let ms = try Stopwatch.median(runs: quick ? 1 : 3, warmup: 1) {
                _ = try predictor.predictSeries(symbol: symbols[0], from: end - Int64(n - 1) * hour, to: end)
            }
            report.results.append(BenchResult(name: "prediction_series", shape: [("bars", n)], ms: ms, runs: quick ? 1 : 3,
                                              extra: [("bars_per_s", Double(n) / (ms / 1e3))]))
        }
        return report
    }

    /// The suite's scratch store (eight seeded random walks) and an ensemble of design-size networks on it (also the
    /// robot suite's).
    static func fixture(dir: String, backend: Backend) throws -> (EnsemblePredictor, [String], [BarSeries]) {
        let symbols = (0..<8).map { "SYM\($0)" }
        let bars = try ParquetBarStore(root: dir + "/store")
        var all: [BarSeries] = []
        for (n, symbol) in symbols.enumerated() {
            let s = series(symbol, seed: UInt64(n + 1))
            all.append(s)
            _ = try bars.write(s, source: "bench")
        }
        let store = try FeatureStore(root: dir, bars: bars)
        let timeframes: [ModelType: Timeframe] = [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]
        var paths: [ModelType: String] = [:]
        for model in ModelType.allCases {
            let set = try store.featureSet(model: model)
            var config = ModelConfiguration.defaults(model)
            config.inputFeatures = set.names.count
            let network = try HorizonModels.make(config, backend: .cpu, seed: 5, trainable: false)
            let frame = try store.features(symbol: symbols[0], timeframe: timeframes[model]!, model: model)
            let scaler = FeatureScaler.fit(frame, rows: frame.maxLookback..<frame.count)
            var meta = CheckpointMetadata(featureNames: set.names, scaler: scaler, runID: "bench")
            meta.extra = ["timeframe": timeframes[model]!.rawValue, "feature_config_hash": set.configHash]
            // The layout `aitrader train --model all` writes, so `aitrader serve` (the robot suite's remote cycle) serves it.
            try FileManager.default.createDirectory(atPath: dir + "/checkpoints/\(model.rawValue)", withIntermediateDirectories: true)
            paths[model] = dir + "/checkpoints/\(model.rawValue)/best.safetensors"
            try Checkpoint.save(network, metadata: meta, to: paths[model]!)
        }
        var config = EnsembleConfig()
        config.maxDataAgeHours = 0
        let predictor = try EnsemblePredictor(checkpoints: paths, featureStore: store, ensemble: TechnicalEnsemble(config: config),
                                              backend: backend)
        return (predictor, symbols, all)
    }

    /// A seeded hourly random walk (0.1 % hourly volatility), every hour of the day.
    static func series(_ symbol: String, seed: UInt64) -> BarSeries {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { (Double(rng.next() >> 11) + 0.5) / Double(1 << 53) }
        func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        var t: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        var price = 1.0 + Double(seed) * 0.1
        for i in 0..<hourly {
            let open = price
            price *= exp(0.001 * normal())
            let wick = abs(0.0005 * normal()) * price
            t.append(1_600_000_000_000 - 1_600_000_000_000 % hour + Int64(i) * hour)
            o.append(open); c.append(price); h.append(max(open, price) + wick); l.append(min(open, price) - wick)
            v.append(1000 + 500 * uniform())
        }
        return BarSeries(symbol: symbol, timeframe: .h1, timestamps: t, open: o, high: h, low: l, close: c, volume: v)
    }
}
