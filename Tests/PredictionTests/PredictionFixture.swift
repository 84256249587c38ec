import Common
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
    static let timeframes: [ModelType: Timeframe] = [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]
    static let configs: [ModelType: String] = [
        .shortTerm: #"{"attention_dim":12,"attention_heads":3,"conv_channels":[6,8,12],"conv_dropout":0.1,"conv_kernels":[3,5,7],"fc_dropout":0.1,"fc_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"lstm_dropout":0.3,"lstm_hidden":7,"lstm_layers":2,"model_type":"short_term","sequence_length":24}"#,
        .mediumTerm: #"{"attention_heads":2,"d_model":8,"input_features":5,"layer_norm_eps":1e-05,"model_type":"medium_term","sequence_length":12}"#,
        .longTerm: #"{"attention_heads":2,"block_layers":2,"block_width":12,"d_model":8,"dropout":0.1,"encoder_layers":1,"feedforward":16,"forecast_horizon":4,"fusion_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"model_type":"long_term","regime_classes":3,"regime_head":true,"seasonality_blocks":1,"seasonality_harmonics":null,"sequence_length":8,"trend_blocks":1,"trend_degree":3}"#,
    ]

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
        let set = try featureStore.featureSet(model: model)
        let tf = Self.timeframes[model]!
        var configuration = try ModelConfiguration(json: Self.configs[model]!, modelType: model, location: "test")
        configuration.inputFeatures = set.names.count
        let network = try HorizonModels.make(configuration, backend: .cpu, seed: seed)
        let frame = try featureStore.features(symbol: "EURUSD", timeframe: tf, model: model)
        let scaler = FeatureScaler.fit(frame, rows: min(frame.maxLookback, frame.count - 1)..<frame.count, method: .zScore, clip: 10)
        var meta = CheckpointMetadata(featureNames: set.names, scaler: scaler, runID: "test-\(model.rawValue)",
                                      calibration: ProbabilityCalibration(method: .platt, platt: PlattScaling(a: platt.0, b: platt.1),
                                                                          isotonic: nil, samples: 100, logLoss: [:]))
        meta.extra = ["timeframe": tf.rawValue, "symbol": "EURUSD", "profile": "trader", "feature_set": set.source,
                      "feature_config_hash": set.configHash, "val_loss": "0.69", "epoch": "1"]
        edit(&meta)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Checkpoint.save(network, metadata: meta, to: path)
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
