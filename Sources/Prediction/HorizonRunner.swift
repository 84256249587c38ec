import Common
import Engine
import Features
import Foundation
import MarketData
import Models

/// One horizon model as the predictor uses it: its checkpoint's metadata — the features it was trained on (checked
/// against the feature store's set: names, order, `feature_config_hash`), its scaler, calibration, timeframe and
/// window — and its network, loaded here or found on an inference server (`NetworkPlacement`). `run` is the only
/// place the network runs.
///
///     let runner = try HorizonRunner(path: "checkpoints/short_term/best.safetensors", featureStore: store,
///                                    placement: .inProcess(.cpu), expecting: .shortTerm)
///     let out = try runner.run(features: windows, close: nil, count: 2)   // alpha, beta per window
final class HorizonRunner: @unchecked Sendable {
    let path: String
    let modelType: ModelType
    let timeframe: Timeframe
    let window: Int
    let featureNames: [String]
    let scaler: FeatureScaler
    let calibration: ProbabilityCalibration
    /// The long_term Dirichlet regime head is read only when the checkpoint records it was trained
    /// (`regime_head_trained: true`); training does not train it today, so ADX decides.
    let regimeHeadTrained: Bool
    let network: any HorizonNetwork

    init(path: String, featureStore: FeatureStore, placement: NetworkPlacement, expecting: ModelType) throws(PredictionError) {
        let contents: Checkpoint.Contents
        do { contents = try Checkpoint.read(path) } catch { throw .checkpoint(path: "", message: error.description) }
        guard contents.modelType == expecting else {
            throw .checkpoint(path: path, message: "is a \(contents.modelType.rawValue) checkpoint, found where the \(expecting.rawValue) one belongs")
        }
        let meta = contents.metadata
        guard let tfText = meta.extra["timeframe"], let timeframe = try? Timeframe(parsing: tfText) else {
            throw .checkpoint(path: path, message: "records no valid timeframe (metadata 'timeframe'); cannot tell which bars it was trained on")
        }
        guard let scaler = meta.scaler else {
            throw .checkpoint(path: path, message: "records no scaler; its features cannot be scaled as in training")
        }
        let set: FeatureSet
        do { set = try featureStore.featureSet(model: expecting) }
        catch { throw .checkpoint(path: path, message: "cannot load the \(expecting.rawValue) feature set: \(error)") }
        do { try contents.checkFeatures(set.names) }
        catch { throw .checkpoint(path: "", message: "\(error.description) (the feature set is \(set.source))") }
        if let hash = meta.extra["feature_config_hash"], hash != set.configHash {
            throw .checkpoint(path: path, message: "was trained on another version of \(meta.extra["feature_set"] ?? "its feature set") "
                + "(feature_config_hash \(hash)); \(set.source) is now \(set.configHash), so its features would differ")
        }
        let regimeHeadTrained = expecting == .longTerm && meta.extra["regime_head_trained"] == "true"
        switch placement {
        case .inProcess(let backend):
            let loaded: any HorizonModel
            do { loaded = try Checkpoint.load(path, backend: backend, expecting: expecting).model }
            catch { throw .checkpoint(path: "", message: error.description) }
            loaded.training = false
            network = InProcessNetwork(model: loaded, path: path, readsRegime: regimeHeadTrained)
        case .remote(let server):
            let checkpoint = HorizonCheckpoint(
                modelType: expecting, path: path, sequenceLength: contents.configuration.sequenceLength,
                inputFeatures: contents.configuration.inputFeatures, featureNames: meta.featureNames,
                regimeHeadTrained: regimeHeadTrained, sha256: try HorizonCheckpoint.sha256(of: path))
            network = try server.network(for: checkpoint)
        }
        self.path = path
        self.modelType = expecting
        self.timeframe = timeframe
        self.window = contents.configuration.sequenceLength
        self.featureNames = set.names
        self.scaler = scaler
        self.calibration = meta.calibrationOrIdentity
        self.regimeHeadTrained = regimeHeadTrained
    }

    struct Output {
        var alpha: [Float]
        var beta: [Float]
        /// (count, K) Dirichlet concentrations when the regime head is used.
        var regime: [Float]?
    }

    /// Runs `count` windows: `features` (count, L, F) row-major; `close` (count, L) for long_term.
    func run(features: [Float], close: [Float]?, count: Int) throws(PredictionError) -> Output {
        let out = try network.forward(features: features, close: close, rows: count)
        guard out.alpha.count == count, out.beta.count == count else {
            throw .failed(context: "running \(modelType.rawValue) on \(count) windows",
                          message: "the network answered \(out.alpha.count) alphas and \(out.beta.count) betas")
        }
        return Output(alpha: out.alpha, beta: out.beta, regime: regimeHeadTrained ? out.regime : nil)
    }
}
