import Common
import Engine
import Foundation
import Models
import Prediction

/// One horizon model loaded from its checkpoint for serving: the network (inference mode) on the selected backend,
/// the checkpoint's metadata (features, calibration), the file's identity when it was read (size, modification
/// time) so the repository can tell when it changed, and its SHA-256 — what a client that scales its own features
/// with its copy of the checkpoint checks (model metadata `checkpoint_sha256`, and the request parameter of the same
/// name that refuses a pass on any other checkpoint). `forward` is serialised by a lock (a model reuses its buffers
/// between passes), so the model's own batcher and the ensemble's may share one instance.
///
///     let instance = try HorizonInstance(path: "checkpoints/short_term/best.safetensors", modelType: .shortTerm, backend: .cpu)
///     let out = try instance.forward(features: x, close: nil, rows: 2)   // alpha, beta per row
public final class HorizonInstance: @unchecked Sendable {
    public let path: String
    public let modelType: ModelType
    public let configuration: ModelConfiguration
    public let metadata: CheckpointMetadata
    public let fileIdentity: FileIdentity
    /// SHA-256 (hex) of the checkpoint file loaded.
    public let sha256: String
    /// The long_term Dirichlet regime head is read only when the checkpoint records it was trained
    /// (`regime_head_trained: true`), as `Prediction.EnsemblePredictor` does.
    public let regimeHeadTrained: Bool
    private let model: any HorizonModel
    private let lock = NSLock()

    public init(path: String, modelType: ModelType, backend: Backend) throws(ServingError) {
        let identity = FileIdentity(path: path)
        let digest: String
        do { digest = try HorizonCheckpoint.sha256(of: path) } catch { throw .repository(path: "", message: error.description) }
        let loaded: (model: any HorizonModel, metadata: CheckpointMetadata)
        do { loaded = try Checkpoint.load(path, backend: backend, expecting: modelType) }
        catch { throw .repository(path: "", message: error.description) }
        // Digest and weights must come from the same file: one replaced meanwhile is loaded by the next poll.
        guard FileIdentity(path: path) == identity else {
            throw .repository(path: path, message: "changed while it was being loaded; it is loaded again at the next check")
        }
        loaded.model.training = false
        self.path = path
        self.modelType = modelType
        self.configuration = loaded.model.configuration
        self.metadata = loaded.metadata
        self.fileIdentity = identity
        self.sha256 = digest
        self.regimeHeadTrained = modelType == .longTerm && loaded.metadata.extra["regime_head_trained"] == "true"
        self.model = loaded.model
    }

    public var sequenceLength: Int { configuration.sequenceLength }
    public var inputFeatures: Int { configuration.inputFeatures }
    public var calibration: ProbabilityCalibration { metadata.calibrationOrIdentity }

    /// The outputs of one pass, on the host.
    public struct Output: Sendable {
        public var alpha: [Float]
        public var beta: [Float]
        /// long_term: the N-BEATS forecast (rows, H).
        public var forecast: [Float]?
        /// long_term with a regime head: Dirichlet concentrations (rows, K).
        public var regime: [Float]?
    }

    /// Runs `rows` windows: `features` (rows, L, F) row-major; `close` (rows, L) for long_term.
    public func forward(features: [Float], close: [Float]?, rows: Int) throws(InferenceError) -> Output {
        lock.lock()
        defer { lock.unlock() }
        do {
            let out = try model.forward(features: features, close: close, rows: rows)
            let (alpha, beta) = try out.prediction.values()
            return Output(alpha: alpha, beta: beta, forecast: try out.forecast?.toArray(), regime: try out.regime?.toArray())
        } catch {
            throw .failed("running \(modelType.rawValue) (\(path)) on \(rows) rows: \(error.description)")
        }
    }
}

/// What identifies a file's version without reading it: size and modification time (nanoseconds). A checkpoint
/// rewritten in place (training writes through `AtomicFile`, a rename) gets a new identity.
public struct FileIdentity: Sendable, Equatable, CustomStringConvertible {
    public var size: Int64
    public var modified: Int64
    public var inode: UInt64

    public init(path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            inode = UInt64(info.st_ino)
        } else {
            size = -1
            modified = 0
            inode = 0
        }
    }

    public var description: String { "\(size) bytes, modified \(UTCTime.iso8601(modified / 1_000_000))" }
}
