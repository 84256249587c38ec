import Common
import Engine
import Foundation
import Models
import Prediction

/// The served models and the directory they come from, laid out as `aitrader train --model all --checkpoint-dir DIR`
/// writes it (`DIR/short_term/best.safetensors`, ...; `Prediction.EnsembleCheckpoints` picks the file: best, else
/// the lowest val_loss, else last). Models: `short_term`, `medium_term`, `long_term` and `ensemble` (the three
/// combined), each version "1".
///
/// Loading builds the model on the server's backend and starts (or feeds) its `DynamicBatcher`. A model loaded
/// again — `POST /v2/repository/models/{name}/load`, or the poller seeing its checkpoint file change — is swapped
/// into its batcher between two forward passes: requests queued or running are answered, by the old model if their
/// pass had started. The horizon models' instances are shared with the ensemble (one set of weights, one lock
/// each); reloading one also refreshes the ensemble. Unloading drains the model's queue, then removes it (the
/// ensemble keeps the members it was loaded with).
///
///     let repository = ModelRepository(directory: "results/demo_checkpoints", backend: .cpu, policy: BatchingPolicy())
///     repository.loadAll()                      // models that fail are listed with the reason, not fatal
///     let (model, batcher) = try repository.ready("short_term")
public final class ModelRepository: @unchecked Sendable {
    public static let modelNames = ModelType.allCases.map(\.rawValue) + [EnsembleServedModel.modelName]
    public static let version = "1"

    public let directory: String
    public let backend: Backend
    public let policy: BatchingPolicy
    public let ensembleConfig: EnsembleConfig
    let metrics: ServingMetrics?
    /// Serialises loads, unloads and polls (requests never wait on it).
    private let loadLock = NSLock()
    private let lock = NSLock()
    private var batchers: [String: DynamicBatcher] = [:]
    private var instances: [ModelType: HorizonInstance] = [:]
    private var reasons: [String: String] = [:]

    public init(directory: String, backend: Backend, policy: BatchingPolicy, ensembleConfig: EnsembleConfig = EnsembleConfig(),
                metrics: ServingMetrics? = nil) {
        self.directory = directory
        self.backend = backend
        self.policy = policy
        self.ensembleConfig = ensembleConfig
        self.metrics = metrics
    }

    /// One row of `POST /v2/repository/index`.
    public struct IndexEntry: Sendable, Equatable {
        public var name: String
        public var version: String
        /// READY or UNAVAILABLE (Triton's states).
        public var state: String
        public var reason: String
    }

    /// Loads every model; returns the ones that could not be loaded with the reason.
    @discardableResult
    public func loadAll() -> [String: String] {
        var failed: [String: String] = [:]
        for name in Self.modelNames {
            do { try load(name) } catch { failed[name] = error.message }
        }
        return failed
    }

    /// Loads (or reloads from disk) `name`.
    public func load(_ name: String) throws(InferenceError) {
        guard Self.modelNames.contains(name) else { throw Self.unknown(name) }
        loadLock.lock()
        defer { loadLock.unlock() }
        do {
            if let type = ModelType(rawValue: name) {
                let instance = try loadInstance(type)
                install(name, model: HorizonServedModel(instance: instance))
                try refreshEnsemble(ifLoaded: true)
            } else {
                for type in ModelType.allCases {
                    let path = try checkpointPath(type)
                    let current = current(type)
                    if current == nil || current!.path != path || current!.fileIdentity != FileIdentity(path: path) {
                        _ = try loadInstance(type)
                    }
                }
                try refreshEnsemble(ifLoaded: false)
            }
        } catch {
            lock.lock()
            reasons[name] = error.description
            lock.unlock()
            throw .badRequest("failed to load '\(name)': \(error.description)")
        }
        lock.lock()
        reasons[name] = nil
        lock.unlock()
    }

    /// Stops serving `name` once its queued requests are answered.
    public func unload(_ name: String) throws(InferenceError) {
        guard Self.modelNames.contains(name) else { throw Self.unknown(name) }
        loadLock.lock()
        defer { loadLock.unlock() }
        lock.lock()
        let batcher = batchers.removeValue(forKey: name)
        reasons[name] = "unloaded"
        lock.unlock()
        metrics?.modelReady.set(0, [name])
        batcher?.shutdown()
    }

    /// The model and its batcher when `name` is being served; else 404 (unknown name) or 400 (not loaded).
    public func ready(_ name: String) throws(InferenceError) -> (model: any ServedModel, batcher: DynamicBatcher) {
        lock.lock()
        defer { lock.unlock() }
        if let batcher = batchers[name] { return (batcher.currentModel, batcher) }
        guard Self.modelNames.contains(name) else { throw Self.unknown(name) }
        throw .badRequest("model '\(name)' is not loaded\(reasons[name].map { " (\($0))" } ?? "") — POST /v2/repository/models/\(name)/load")
    }

    public func isReady(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return batchers[name] != nil
    }

    public var readyModels: [String] {
        lock.lock()
        defer { lock.unlock() }
        return Self.modelNames.filter { batchers[$0] != nil }
    }

    public func index() -> [IndexEntry] {
        lock.lock()
        defer { lock.unlock() }
        return Self.modelNames.map { name in
            IndexEntry(name: name, version: Self.version, state: batchers[name] != nil ? "READY" : "UNAVAILABLE",
                       reason: batchers[name] != nil ? "" : (reasons[name] ?? "not loaded"))
        }
    }

    /// Reloads every served model whose checkpoint changed on disk (another file chosen, or the file rewritten);
    /// returns the names reloaded. A checkpoint that fails to load leaves the old model serving (the reason is
    /// returned and kept for the index).
    @discardableResult
    public func reloadChanged() -> (reloaded: [String], failed: [String: String]) {
        var reloaded: [String] = [], failed: [String: String] = [:]
        for type in ModelType.allCases {
            lock.lock()
            let served = batchers[type.rawValue] != nil || batchers[EnsembleServedModel.modelName] != nil
            let instance = instances[type]
            lock.unlock()
            guard served, let instance else { continue }
            let path: String
            do { path = try checkpointPath(type) } catch { continue }   // a directory mid-write: try again next poll
            guard path != instance.path || FileIdentity(path: path) != instance.fileIdentity else { continue }
            do {
                if isReady(type.rawValue) { try load(type.rawValue) } else { try load(EnsembleServedModel.modelName) }
                reloaded.append(type.rawValue)
            } catch {
                failed[type.rawValue] = error.message
            }
        }
        return (reloaded, failed)
    }

    /// Refuses new requests, answers the queued ones, and stops every batcher.
    public func shutdown() {
        lock.lock()
        let all = Array(batchers.values)
        lock.unlock()
        for b in all { b.drain() }
        for b in all { b.shutdown() }
    }

    // MARK: internals

    static func unknown(_ name: String) -> InferenceError {
        .notFound("unknown model '\(name)' (this server has: \(modelNames.joined(separator: ", ")))")
    }

    private func current(_ type: ModelType) -> HorizonInstance? {
        lock.lock()
        defer { lock.unlock() }
        return instances[type]
    }

    private func checkpointPath(_ type: ModelType) throws(ServingError) -> String {
        do { return try EnsembleCheckpoints.best(in: directory + "/" + type.rawValue, model: type) }
        catch { throw .repository(path: "", message: error.description) }
    }

    private func loadInstance(_ type: ModelType) throws(ServingError) -> HorizonInstance {
        let instance = try HorizonInstance(path: try checkpointPath(type), modelType: type, backend: backend)
        lock.lock()
        instances[type] = instance
        lock.unlock()
        return instance
    }

    private func refreshEnsemble(ifLoaded: Bool) throws(ServingError) {
        lock.lock()
        let members = ModelType.allCases.compactMap { instances[$0] }
        let loaded = batchers[EnsembleServedModel.modelName] != nil
        lock.unlock()
        if ifLoaded && !loaded { return }
        install(EnsembleServedModel.modelName, model: try EnsembleServedModel(members: members, config: ensembleConfig))
    }

    private func install(_ name: String, model: any ServedModel) {
        lock.lock()
        if let batcher = batchers[name] {
            batcher.replace(model: model)
        } else {
            batchers[name] = DynamicBatcher(model: model, policy: policy, observer: metrics?.observer(model: name) ?? .init())
        }
        lock.unlock()
        metrics?.modelReady.set(1, [name])
    }
}
