import Common
import EnsembleTestSupport
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction

/// A scratch data root with the EURUSD H1 sample and small seeded checkpoints of the three models, written with the
/// model code (as Tests/PredictionTests' fixture does): short_term 1h, medium_term 4h, long_term 1d (resampled from the
/// stored 1h bars), Platt calibrations that spread p(up) so the robot trades. Built once per test process.
final class EnsembleFixture: @unchecked Sendable {
    static let shared: Result<EnsembleFixture, Error> = Result { try EnsembleFixture() }
    static func get() throws -> EnsembleFixture { try shared.get() }

    let directory: String
    let checkpoints: String
    let bars: BarSeries
    let featureStore: FeatureStore
    static let timeframes = SmallEnsembleCheckpoints.timeframes
    init() throws {
        directory = NSTemporaryDirectory() + "aitrader-robot-ensemble-\(UUID().uuidString)"
        let root = directory + "/data"
        checkpoints = directory + "/checkpoints"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        bars = try RobotFixture.eurusd(bars: 5_000)
        let barStore = try ParquetBarStore(root: root + "/store")
        _ = try barStore.write(bars, source: "test")
        featureStore = try FeatureStore(root: root, bars: barStore, configDirectory: RobotFixture.root + "/configs/features")
        for (n, model) in ModelType.allCases.enumerated() {
            try writeCheckpoint(model, seed: UInt64(21 + n), to: checkpoints + "/" + model.rawValue + "/best.safetensors")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func writeCheckpoint(_ model: ModelType, seed: UInt64, to path: String) throws {
        try SmallEnsembleCheckpoints.write(model, seed: seed, to: path, featureStore: featureStore, platt: (6, 0.02))
    }

    /// A fresh predictor (empty outcome record; data age not checked: decisions are at stored bar closes).
    func predictor() throws -> EnsemblePredictor {
        var config = EnsembleConfig()
        config.maxDataAgeHours = 0
        return try EnsemblePredictor.load(checkpointsDirectory: checkpoints, store: featureStore, ensembleConfig: config, backend: .cpu)
    }
}
