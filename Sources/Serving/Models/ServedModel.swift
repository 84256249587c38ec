import Common
import Models

/// A model the server runs: its name, signature and one forward pass over a batch of rows (rows of many requests
/// concatenated by the batcher; every output's first dimension is the batch's rows, in the same order).
public protocol ServedModel: AnyObject, Sendable {
    var name: String { get }
    var signature: ModelSignature { get }
    /// The checkpoints it runs (for the repository index and the model metadata).
    var checkpointPaths: [String] { get }
    /// What a request's `checkpoint_sha256` parameter must equal: the checkpoint file's SHA-256 (hex); for the
    /// ensemble its members' joined by "+" (short_term, medium_term, long_term).
    var checkpointSHA256: String { get }
    /// The model metadata's `parameters` (`GET /v2/models/{name}`): what a client checks before relying on it.
    var metadataParameters: [(name: String, value: String)] { get }
    func run(_ batch: TensorBatch) throws(InferenceError) -> [OutputTensor]
}

extension ServedModel {
    /// A model not run from a checkpoint file (a test's stand-in): no identity to require, no parameters.
    public var checkpointSHA256: String { "" }
    public var metadataParameters: [(name: String, value: String)] { [] }
}

/// `short_term`, `medium_term` or `long_term` served from one checkpoint.
///
/// Inputs (FP32): `x` (rows, L, F), the scaled feature windows in the checkpoint's feature order (what
/// `aitrader model forward` reads as `x`), and for long_term `close` (rows, L), the normalised close series.
/// Outputs: `alpha`, `beta` (FP32, rows) from the network; `p_up` (the checkpoint's calibration applied to
/// alpha / (alpha + beta)), `p_up_raw`, `confidence` (clip(1 − sd / 0.5, 0, 1) of the Beta, `ConfidentPrediction`)
/// (FP32, rows); `direction` (INT32, rows: +1, −1, 0 by calibrated p); long_term also `forecast` (rows, H) and, with
/// a regime head, `regime` (rows, K).
public final class HorizonServedModel: ServedModel, @unchecked Sendable {
    public let instance: HorizonInstance
    public let signature: ModelSignature

    public init(instance: HorizonInstance) {
        self.instance = instance
        signature = Self.signature(of: instance)
    }

    public var name: String { instance.modelType.rawValue }
    public var checkpointPaths: [String] { [instance.path] }
    public var checkpointSHA256: String { instance.sha256 }

    /// `checkpoint_sha256`, `feature_names` (comma-separated, in input order), `run_id`, `timeframe`.
    public var metadataParameters: [(name: String, value: String)] {
        [("checkpoint_sha256", instance.sha256), ("feature_names", instance.metadata.featureNames.joined(separator: ",")),
         ("run_id", instance.metadata.runID), ("timeframe", instance.metadata.extra["timeframe"] ?? "")]
    }

    static func signature(of instance: HorizonInstance) -> ModelSignature {
        let l = instance.sequenceLength, f = instance.inputFeatures
        let names = instance.metadata.featureNames
        let featureText = names.isEmpty ? "\(f) features" : "\(f) features: " + names.prefix(6).joined(separator: ", ")
            + (names.count > 6 ? ", ..." : "")
        var inputs = [TensorSpec(name: "x", rowShape: [l, f], meaning: "rows, sequence_length \(l), \(featureText)")]
        if instance.modelType.needsClose {
            inputs.append(TensorSpec(name: "close", rowShape: [l], meaning: "rows, sequence_length \(l): the normalised close series"))
        }
        var outputs = ["alpha", "beta", "p_up", "p_up_raw", "confidence"].map { TensorSpec(name: $0, rowShape: []) }
        outputs.append(TensorSpec(name: "direction", datatype: .int32, rowShape: []))
        if case .longTerm(let c) = instance.configuration {
            outputs.append(TensorSpec(name: "forecast", rowShape: [c.forecastHorizon]))
            if c.regimeHead { outputs.append(TensorSpec(name: "regime", rowShape: [c.regimeClasses])) }
        }
        return ModelSignature(inputs: inputs, outputs: outputs)
    }

    public func run(_ batch: TensorBatch) throws(InferenceError) -> [OutputTensor] {
        let n = batch.rows
        guard let x = batch.inputs["x"] else { throw .failed("\(name): the batch has no 'x'") }
        let out = try instance.forward(features: x, close: instance.modelType.needsClose ? batch.inputs["close"] : nil, rows: n)
        let calls = zip(out.alpha, out.beta).map { ConfidentPrediction(alpha: $0, beta: $1, calibration: instance.calibration) }
        var tensors = [
            OutputTensor(name: "alpha", shape: [n], values: .fp32(out.alpha)),
            OutputTensor(name: "beta", shape: [n], values: .fp32(out.beta)),
            OutputTensor(name: "p_up", shape: [n], values: .fp32(calls.map(\.probability))),
            OutputTensor(name: "p_up_raw", shape: [n], values: .fp32(calls.map(\.rawProbability))),
            OutputTensor(name: "confidence", shape: [n], values: .fp32(calls.map(\.confidence))),
            OutputTensor(name: "direction", shape: [n], values: .int32(calls.map { Int32($0.direction) })),
        ]
        if let forecast = out.forecast, n > 0 {
            tensors.append(OutputTensor(name: "forecast", shape: [n, forecast.count / n], values: .fp32(forecast)))
        }
        if let regime = out.regime, n > 0, signature.output("regime") != nil {
            tensors.append(OutputTensor(name: "regime", shape: [n, regime.count / n], values: .fp32(regime)))
        }
        return tensors
    }
}
