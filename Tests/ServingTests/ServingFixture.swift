import Common
import Engine
import Foundation
import Models
@testable import Serving

/// A scratch model repository with small seeded checkpoints of the three models (5 features, short windows, Platt
/// calibrations) in the layout `aitrader train --model all` writes, and helpers to serve it on an ephemeral port
/// and to compute the reference outputs in process.
final class ServingFixture: @unchecked Sendable {
    static let configs: [ModelType: String] = [
        .shortTerm: #"{"attention_dim":12,"attention_heads":3,"conv_channels":[6,8,12],"conv_dropout":0.1,"conv_kernels":[3,5,7],"fc_dropout":0.1,"fc_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"lstm_dropout":0.3,"lstm_hidden":7,"lstm_layers":2,"model_type":"short_term","sequence_length":24}"#,
        .mediumTerm: #"{"attention_heads":2,"d_model":8,"input_features":5,"layer_norm_eps":1e-05,"model_type":"medium_term","sequence_length":12}"#,
        .longTerm: #"{"attention_heads":2,"block_layers":2,"block_width":12,"d_model":8,"dropout":0.1,"encoder_layers":1,"feedforward":16,"forecast_horizon":4,"fusion_hidden":6,"input_features":5,"layer_norm_eps":1e-05,"model_type":"long_term","regime_classes":3,"regime_head":true,"seasonality_blocks":1,"seasonality_harmonics":null,"sequence_length":8,"trend_blocks":1,"trend_degree":3}"#,
    ]
    static let features = 5

    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "aitrader-serving-\(UUID().uuidString)"
        for (n, model) in ModelType.allCases.enumerated() { try writeCheckpoint(model, seed: UInt64(21 + n)) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ model: ModelType) -> String { directory + "/" + model.rawValue + "/best.safetensors" }

    static func configuration(_ model: ModelType) throws -> ModelConfiguration {
        try ModelConfiguration(json: configs[model]!, modelType: model, location: "test")
    }

    /// Writes `model`'s checkpoint with weights drawn from `seed` (atomically: a reader never sees half a file).
    func writeCheckpoint(_ model: ModelType, seed: UInt64) throws {
        let network = try HorizonModels.make(try Self.configuration(model), backend: .cpu, seed: seed)
        let names = (0..<Self.features).map { "f\($0)" }
        let meta = CheckpointMetadata(featureNames: names, runID: "serving-test-\(model.rawValue)-\(seed)",
                                      calibration: ProbabilityCalibration(method: .platt, platt: PlattScaling(a: 2, b: 0.1),
                                                                          isotonic: nil, samples: 100, logLoss: [:]),
                                      extra: ["timeframe": "1h"])
        try FileManager.default.createDirectory(atPath: directory + "/" + model.rawValue, withIntermediateDirectories: true)
        let temporary = path(model) + ".tmp-\(UUID().uuidString)"
        try Checkpoint.save(network, metadata: meta, to: temporary)
        guard rename(temporary, path(model)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Starts a service on an ephemeral port.
    func serve(policy: BatchingPolicy = BatchingPolicy(maxQueueDelayMicroseconds: 200), token: String? = nil,
               maxBodyBytes: Int = 1 << 20, pollSeconds: Double = 0) throws -> (InferenceService, TestHTTPClient) {
        let service = InferenceService(repository: directory, backend: .cpu,
                                       configuration: ServiceConfiguration(port: 0, maxBodyBytes: maxBodyBytes, authToken: token,
                                                                           policy: policy, pollSeconds: pollSeconds))
        let failed = try service.start()
        guard failed.isEmpty else { throw ServingError.repository(path: directory, message: "\(failed)") }
        return (service, TestHTTPClient(port: service.port))
    }

    /// Seeded inputs of `model`: `rows` windows (rows, L, F) and, for long_term, close (rows, L).
    static func inputs(_ model: ModelType, rows: Int, seed: UInt64) throws -> (x: [Float], close: [Float]?, l: Int) {
        let c = try configuration(model)
        var rng = SplitMix64(seed: seed)
        func uniform() -> Float { Float(Double(rng.next() >> 11) / Double(1 << 53)) * 4 - 2 }
        let x = (0..<(rows * c.sequenceLength * features)).map { _ in uniform() }
        let close = model.needsClose ? (0..<(rows * c.sequenceLength)).map { _ in 1 + uniform() / 20 } : nil
        return (x, close, c.sequenceLength)
    }

    /// The model's outputs computed in process, one row at a time (the unbatched reference).
    func reference(_ model: ModelType, x: [Float], close: [Float]?, rows: Int) throws -> [String: [Float]] {
        let instance = try HorizonInstance(path: path(model), modelType: model, backend: .cpu)
        let served = HorizonServedModel(instance: instance)
        var out: [String: [Float]] = [:]
        let l = instance.sequenceLength, f = instance.inputFeatures
        for r in 0..<rows {
            var inputs = ["x": Array(x[(r * l * f)..<((r + 1) * l * f)])]
            if let close { inputs["close"] = Array(close[(r * l)..<((r + 1) * l)]) }
            for tensor in try served.run(TensorBatch(rows: 1, inputs: inputs)) { out[tensor.name, default: []] += tensor.values.floats }
        }
        return out
    }
}
