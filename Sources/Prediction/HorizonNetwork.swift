import Common
import Engine
import Foundation
import MarketData
import Models

/// A horizon model's forward pass: alpha and beta (and, when used, the long_term regime head's concentrations) for
/// a batch of scaled windows. `EnsemblePredictor` builds the windows itself — same store, same feature code, same
/// scaler — and asks a network only for this; what follows (calibration, market conditions, dynamic weights,
/// outcomes) is the predictor's own code whichever network answered. The network runs in this process
/// (`NetworkPlacement.inProcess`: the checkpoint's weights on a `Backend`) or on an inference server
/// (`NetworkPlacement.remote`: `Serving.RemoteNetworks` speaks the Open Inference Protocol to `aitrader serve`).
///
///     let out = try network.forward(features: windows, close: nil, rows: 2)   // out.alpha.count == 2
public protocol HorizonNetwork: Sendable {
    /// Runs `rows` windows: `features` (rows, L, F) row-major; `close` (rows, L) for long_term.
    func forward(features: [Float], close: [Float]?, rows: Int) throws(PredictionError) -> HorizonNetworkOutput
}

/// What a forward pass gives the ensemble (host arrays, one value per row).
public struct HorizonNetworkOutput: Sendable, Equatable {
    public var alpha: [Float]
    public var beta: [Float]
    /// (rows, K) Dirichlet concentrations when the checkpoint's regime head is used (`regimeHeadTrained`).
    public var regime: [Float]?

    public init(alpha: [Float], beta: [Float], regime: [Float]? = nil) {
        self.alpha = alpha
        self.beta = beta
        self.regime = regime
    }
}

/// Where the three networks run.
///
///     .inProcess(try Devices.select(.auto))                              // load the weights here
///     .remote(try RemoteNetworks(url: "http://127.0.0.1:8000"))          // Serving: ask `aitrader serve`
public enum NetworkPlacement: Sendable {
    case inProcess(Backend)
    case remote(any RemoteNetworkProvider)
}

/// The networks of an inference server: one per checkpoint the predictor was configured with, each checked before
/// it is used to be that very checkpoint (its inputs, its feature order, its bytes), so that the windows the
/// predictor scales with its own copy's scaler go to the weights trained with it.
public protocol RemoteNetworkProvider: Sendable {
    /// The server, as the user gave it (scheme, host, port; for messages and the session record).
    var address: String { get }
    /// The network serving `checkpoint` — or why the server cannot stand in for it, naming the model and the
    /// difference.
    func network(for checkpoint: HorizonCheckpoint) throws(PredictionError) -> any HorizonNetwork
}

/// What a network must be to stand in for a checkpoint: its input shapes, the features in their order, whether the
/// regime head is read, and the checkpoint file's SHA-256 (the same bytes: the same weights, scaler and calibration).
public struct HorizonCheckpoint: Sendable, Equatable {
    public var modelType: ModelType
    public var path: String
    public var sequenceLength: Int
    public var inputFeatures: Int
    public var featureNames: [String]
    public var regimeHeadTrained: Bool
    public var sha256: String

    public init(modelType: ModelType, path: String, sequenceLength: Int, inputFeatures: Int, featureNames: [String],
                regimeHeadTrained: Bool, sha256: String) {
        self.modelType = modelType
        self.path = path
        self.sequenceLength = sequenceLength
        self.inputFeatures = inputFeatures
        self.featureNames = featureNames
        self.regimeHeadTrained = regimeHeadTrained
        self.sha256 = sha256
    }

    /// The SHA-256 (hex, as `sha256sum` prints it) of the checkpoint file at `path`.
    ///
    ///     try HorizonCheckpoint.sha256(of: "checkpoints/short_term/best.safetensors")   // "9f2c..."
    public static func sha256(of path: String) throws(PredictionError) -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) }
        catch { throw .checkpoint(path: path, message: "cannot be read: \(error.localizedDescription)") }
        return data.withUnsafeBytes { SHA256.hex($0) }
    }
}

/// The network of a checkpoint loaded in this process; a lock serialises passes (a model reuses its buffers).
final class InProcessNetwork: HorizonNetwork, @unchecked Sendable {
    private let model: any HorizonModel
    private let path: String
    private let readsRegime: Bool
    private let lock = NSLock()

    init(model: any HorizonModel, path: String, readsRegime: Bool) {
        self.model = model
        self.path = path
        self.readsRegime = readsRegime
    }

    func forward(features: [Float], close: [Float]?, rows: Int) throws(PredictionError) -> HorizonNetworkOutput {
        lock.lock()
        defer { lock.unlock() }
        do {
            let out = try model.forward(features: features, close: close, rows: rows)
            let (alpha, beta) = try out.prediction.values()
            return HorizonNetworkOutput(alpha: alpha, beta: beta, regime: readsRegime ? try out.regime?.toArray() : nil)
        } catch {
            throw .failed(context: "running \(model.modelType.rawValue) (\(path)) on \(rows) windows", message: error.description)
        }
    }
}
