import Common
import Engine
import Features
import Foundation
import MarketData
import Models

/// Small checkpoints of the three horizon models, written with the model code as training writes them (seeded
/// weights, a z-score scaler fitted on the stored features, a Platt calibration, training's metadata keys), on the
/// trader profile's timeframes — for the tests that need an ensemble without training one (Prediction, Robot).
public enum SmallEnsembleCheckpoints {
    public static let timeframes: [ModelType: Timeframe] = [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]
    public static let configs: [ModelType: String] = [
        .shortTerm: #"{"attention_dim":12,"attention_heads":3,"conv_channels":[6,8,12],"conv_dropout":0.1,"conv_kernels":[3,5,7],"fc_dropout":0.1,"fc_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"lstm_dropout":0.3,"lstm_hidden":7,"lstm_layers":2,"model_type":"short_term","sequence_length":24}"#,
        .mediumTerm: #"{"attention_heads":2,"d_model":8,"input_features":5,"layer_norm_eps":1e-05,"model_type":"medium_term","sequence_length":12}"#,
        .longTerm: #"{"attention_heads":2,"block_layers":2,"block_width":12,"d_model":8,"dropout":0.1,"encoder_layers":1,"feedforward":16,"forecast_horizon":4,"fusion_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"model_type":"long_term","regime_classes":3,"regime_head":true,"seasonality_blocks":1,"seasonality_harmonics":null,"sequence_length":8,"trend_blocks":1,"trend_degree":3}"#,
    ]


    /// Writes `model`'s checkpoint for the features `featureStore` serves for EURUSD; `config` replaces the
    /// network's configuration JSON of `configs` (e.g. another sequence length) and `edit` changes its metadata
    /// before it is written.
    public static func write(_ model: ModelType, seed: UInt64, to path: String, featureStore: FeatureStore,
                             platt: (Double, Double), config: String? = nil,
                             edit: (inout CheckpointMetadata) -> Void = { _ in }) throws {
        let set = try featureStore.featureSet(model: model)
        let tf = timeframes[model]!
        var configuration = try ModelConfiguration(json: config ?? configs[model]!, modelType: model, location: "test")
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
}
