import Common
import Foundation
import Models
import Prediction

/// The horizon networks of a running `aitrader serve`, for `EnsemblePredictor` (`NetworkPlacement.remote`): the
/// predictor keeps computing features, windows, calibration, market conditions and dynamic weights itself and sends
/// each model's windows to the server's `short_term`, `medium_term` or `long_term` (binary FP32 tensors), reading
/// back `alpha` and `beta` (and `regime` when the checkpoint's regime head is used).
///
/// Before a network is handed out, the server's model metadata is checked against the checkpoint the predictor was
/// configured with, and any difference refuses it, naming the model: input `x` (and `close`) shapes — sequence
/// length and feature count —, the feature names in order, and the checkpoint file's SHA-256 (the same bytes: the
/// same weights, scaler and calibration; a server on other checkpoints would answer for features scaled otherwise).
/// Every request then carries that SHA-256 (`checkpoint_sha256`), so a server that reloads another checkpoint
/// mid-session refuses (409) instead of answering for it.
///
///     let remote = try RemoteNetworks(InferenceClientConfiguration(url: "http://127.0.0.1:8000", timeoutSeconds: 5))
///     let predictor = try EnsemblePredictor.load(checkpointsDirectory: "checkpoints", store: store, placement: .remote(remote))
public final class RemoteNetworks: RemoteNetworkProvider, @unchecked Sendable {
    public let client: InferenceClient

    public init(_ configuration: InferenceClientConfiguration) throws(InferenceClientError) {
        client = try InferenceClient(configuration)
    }

    public init(client: InferenceClient) { self.client = client }

    public var address: String { client.address }

    public func network(for checkpoint: HorizonCheckpoint) throws(PredictionError) -> any HorizonNetwork {
        let model = checkpoint.modelType.rawValue
        let meta: InferenceClient.ModelMetadata
        do { meta = try client.modelMetadata(model) } catch {
            throw .checkpoint(path: "", message: "\(model): \(error.description)")
        }
        if let difference = Self.difference(meta, checkpoint) {
            throw .checkpoint(path: "", message: "the inference server at \(address) cannot stand in for \(checkpoint.path): its "
                + "\(model) \(difference); start it on the robot's checkpoints (aitrader serve --model-repository DIR)")
        }
        return RemoteHorizonNetwork(client: client, checkpoint: checkpoint)
    }

    /// How the served model differs from `checkpoint`, in words; nil when it is that checkpoint.
    /// The outputs a forward pass reads: alpha, beta, and the regime when the checkpoint's head is trained.
    static func outputs(for checkpoint: HorizonCheckpoint) -> [String] {
        checkpoint.regimeHeadTrained ? ["alpha", "beta", "regime"] : ["alpha", "beta"]
    }

    static func difference(_ meta: InferenceClient.ModelMetadata, _ checkpoint: HorizonCheckpoint) -> String? {
        let l = checkpoint.sequenceLength, f = checkpoint.inputFeatures
        guard let x = meta.input("x") else { return "takes no input 'x' (its inputs: \(meta.inputs.map(\.name).joined(separator: ", ")))" }
        if x.datatype != "FP32" || x.shape != [-1, l, f] {
            return "takes 'x' as \(x.datatype) \(x.shape), the checkpoint FP32 [-1, \(l), \(f)] (sequence_length \(l), \(f) features)"
        }
        if checkpoint.modelType.needsClose {
            guard let close = meta.input("close"), close.datatype == "FP32", close.shape == [-1, l] else {
                return "does not take 'close' as FP32 [-1, \(l)]"
            }
        }
        for name in outputs(for: checkpoint) where meta.output(name)?.datatype != "FP32" {
            return "has no FP32 output '\(name)'"
        }
        guard let names = meta.parameters["feature_names"] else {
            return "does not report its feature names (an aitrader serve older than the robot?)"
        }
        let served = names.isEmpty ? [] : names.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if served != checkpoint.featureNames {
            if served.count != checkpoint.featureNames.count {
                return "has \(served.count) features, the checkpoint \(checkpoint.featureNames.count)"
            }
            let i = served.indices.first { served[$0] != checkpoint.featureNames[$0] } ?? 0
            return "feature \(i + 1) is '\(UntrustedText.sanitized(served[i], limit: 60))', the checkpoint's is '\(checkpoint.featureNames[i])' "
                + "(the features are in another order or differ)"
        }
        guard let digest = meta.parameters["checkpoint_sha256"] else {
            return "does not report which checkpoint it runs (checkpoint_sha256; an aitrader serve older than the robot?)"
        }
        if digest != checkpoint.sha256 {
            let run = meta.parameters["run_id"].map { ", run \(UntrustedText.sanitized($0, limit: 60))" } ?? ""
            return "runs another checkpoint (sha256 \(UntrustedText.sanitized(digest.prefix(16), limit: 16))...\(run)) than this one "
                + "(sha256 \(checkpoint.sha256.prefix(16))...): the same shapes and features, other weights, scaler or calibration"
        }
        return nil
    }
}

/// One model on the server, as a `HorizonNetwork`: a request per call (all rows of the call in it), required to run
/// on the checked checkpoint.
final class RemoteHorizonNetwork: HorizonNetwork, @unchecked Sendable {
    let client: InferenceClient
    let checkpoint: HorizonCheckpoint
    private let outputs: [String]

    init(client: InferenceClient, checkpoint: HorizonCheckpoint) {
        self.client = client
        self.checkpoint = checkpoint
        outputs = RemoteNetworks.outputs(for: checkpoint)
    }

    func forward(features: [Float], close: [Float]?, rows: Int) throws(PredictionError) -> HorizonNetworkOutput {
        let model = checkpoint.modelType.rawValue
        let l = checkpoint.sequenceLength
        var inputs = [InferenceRequest.OutgoingInput(name: "x", shape: [rows, l, checkpoint.inputFeatures], values: features)]
        if let close { inputs.append(.init(name: "close", shape: [rows, l], values: close)) }
        let answer: [String: OutputTensor]
        do {
            answer = try client.infer(model, inputs: inputs, outputs: outputs, parameters: ["checkpoint_sha256": checkpoint.sha256])
        } catch {
            throw .failed(context: "\(model) on the inference server", message: error.description)
        }
        func column(_ name: String) throws(PredictionError) -> [Float] {
            guard let t = answer[name], case .fp32(let v) = t.values, t.shape.first == rows, v.count == rows else {
                throw .failed(context: "\(model) on the inference server at \(client.address)",
                              message: "the answer has no FP32 '\(name)' with \(rows) rows")
            }
            return v
        }
        let alpha = try column("alpha"), beta = try column("beta")
        var regime: [Float]? = nil
        if checkpoint.regimeHeadTrained {
            guard let t = answer["regime"], case .fp32(let v) = t.values, t.shape.count == 2, t.shape[0] == rows, v.count == rows * t.shape[1] else {
                throw .failed(context: "\(model) on the inference server at \(client.address)", message: "the answer has no (rows, K) 'regime'")
            }
            regime = v
        }
        return HorizonNetworkOutput(alpha: alpha, beta: beta, regime: regime)
    }
}
