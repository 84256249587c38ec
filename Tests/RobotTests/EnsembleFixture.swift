import Common
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
    static let timeframes: [ModelType: Timeframe] = [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]
    static let configs: [ModelType: String] = [
        .shortTerm: #"{"attention_dim":12,"attention_heads":3,"conv_channels":[6,8,12],"conv_dropout":0.1,"conv_kernels":[3,5,7],"fc_dropout":0.1,"fc_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"lstm_dropout":0.3,"lstm_hidden":7,"lstm_layers":2,"model_type":"short_term","sequence_length":24}"#,
        .mediumTerm: #"{"attention_heads":2,"d_model":8,"input_features":5,"layer_norm_eps":1e-05,"model_type":"medium_term","sequence_length":12}"#,
        .longTerm: #"{"attention_heads":2,"block_layers":2,"block_width":12,"d_model":8,"dropout":0.1,"encoder_layers":1,"feedforward":16,"forecast_horizon":4,"fusion_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"model_type":"long_term","regime_classes":3,"regime_head":true,"seasonality_blocks":1,"seasonality_harmonics":null,"sequence_length":8,"trend_blocks":1,"trend_degree":3}"#,
    ]

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
        let set = try featureStore.featureSet(model: model)
        let tf = Self.timeframes[model]!
        var configuration = try ModelConfiguration(json: Self.configs[model]!, modelType: model, location: "test")
        configuration.inputFeatures = set.names.count
        let network = try HorizonModels.make(configuration, backend: .cpu, seed: seed)
        let frame = try featureStore.features(symbol: "EURUSD", timeframe: tf, model: model)
        let scaler = FeatureScaler.fit(frame, rows: min(frame.maxLookback, frame.count - 1)..<frame.count, method: .zScore, clip: 10)
        var meta = CheckpointMetadata(featureNames: set.names, scaler: scaler, runID: "test-\(model.rawValue)",
                                      calibration: ProbabilityCalibration(method: .platt, platt: PlattScaling(a: 6, b: 0.02),
                                                                          isotonic: nil, samples: 100, logLoss: [:]))
        meta.extra = ["timeframe": tf.rawValue, "symbol": "EURUSD", "profile": "trader", "feature_set": set.source,
                      "feature_config_hash": set.configHash, "val_loss": "0.69", "epoch": "1"]
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Checkpoint.save(network, metadata: meta, to: path)
    }

    /// A fresh predictor (empty outcome record; data age not checked: decisions are at stored bar closes).
    func predictor() throws -> EnsemblePredictor {
        var config = EnsembleConfig()
        config.maxDataAgeHours = 0
        return try EnsemblePredictor.load(checkpointsDirectory: checkpoints, store: featureStore, ensembleConfig: config, backend: .cpu)
    }
}
