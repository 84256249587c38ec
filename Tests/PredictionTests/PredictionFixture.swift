import Common
import EnsembleTestSupport
import Engine
import Features
import Foundation
import MarketData
import Models
@testable import Prediction

/// A scratch data root with the EURUSD H1 sample (and a copy under a second symbol), and small checkpoints of the
/// three models written with the model code (seeded weights, a scaler fitted on the stored features, Platt
/// calibrations), on the trader profile's timeframes: short_term 1h, medium_term 4h (resampled), long_term 1d
/// (resampled). Built once per test process.
final class PredictionFixture: @unchecked Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let shared: Result<PredictionFixture, Error> = Result { try PredictionFixture() }
    static func get() throws -> PredictionFixture { try shared.get() }

    let directory: String
    let root: String
    let checkpoints: String
    let bars: BarSeries
    let featureStore: FeatureStore
    static let timeframes = SmallEnsembleCheckpoints.timeframes
    init() throws {
        directory = NSTemporaryDirectory() + "aitrader-prediction-\(UUID().uuidString)"
        root = directory + "/data"
        checkpoints = directory + "/checkpoints"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let csv = Self.repository.appendingPathComponent("data/sample/EURUSD_H1.csv").path
        bars = try CSVBarReader().read(path: csv, symbol: "EURUSD", timeframe: .h1)
        let barStore = try ParquetBarStore(root: root + "/store")
        _ = try barStore.write(bars, source: "test")
        // A second symbol: the same bars 1 % higher (a scale-free feature set gives nearly the same features).
        let other = BarSeries(symbol: "EURUSD2", timeframe: .h1, timestamps: bars.timestamps.array, open: bars.open.array.map { $0 * 1.01 },
                              high: bars.high.array.map { $0 * 1.01 }, low: bars.low.array.map { $0 * 1.01 },
                              close: bars.close.array.map { $0 * 1.01 }, volume: bars.volume.array)
        _ = try barStore.write(other, source: "test")
        featureStore = try FeatureStore(root: root, bars: barStore,
                                        configDirectory: Self.repository.appendingPathComponent("configs/features").path)
        for (n, model) in ModelType.allCases.enumerated() {
            try writeCheckpoint(model, seed: UInt64(11 + n), to: checkpoints + "/" + model.rawValue + "/best.safetensors")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A checkpoint of `model` as training writes one (metadata keys included), with seeded weights; `edit` changes
    /// its metadata before it is written.
    func writeCheckpoint(_ model: ModelType, seed: UInt64, to path: String, platt: (Double, Double) = (3, 0.05),
                         edit: (inout CheckpointMetadata) -> Void = { _ in }) throws {
        try SmallEnsembleCheckpoints.write(model, seed: seed, to: path, featureStore: featureStore, platt: platt, edit: edit)
    }

    func predictor(config: EnsembleConfig = EnsembleConfig(), now: Int64? = nil) throws -> EnsemblePredictor {
        var c = config
        if now == nil { c.maxDataAgeHours = 0 }
        let clock: @Sendable () -> Int64 = { [now] in now ?? 0 }
        return try EnsemblePredictor.load(checkpointsDirectory: checkpoints, store: featureStore, ensembleConfig: c, backend: .cpu,
                                          now: now == nil ? EnsemblePredictor.wallClock : clock)
    }

    /// The last bar's close time.
    var end: Int64 { bars.timestamps[bars.count - 1] + 3_600_000 }
}
