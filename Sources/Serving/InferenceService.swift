import Common
import Engine
import Foundation
import HTTPService
import Models

/// Everything `aitrader serve` is configured with.
public struct ServiceConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var maxBodyBytes: Int
    /// When set, every request but the health probes needs `Authorization: Bearer <token>`.
    public var authToken: String?
    public var policy: BatchingPolicy
    public var ensembleConfig: EnsembleConfig
    /// Seconds between checks of the checkpoint files (0: only explicit loads reload).
    public var pollSeconds: Double

    public init(host: String = "127.0.0.1", port: Int = 8000, maxBodyBytes: Int = 64 << 20, authToken: String? = nil,
                policy: BatchingPolicy = BatchingPolicy(), ensembleConfig: EnsembleConfig = EnsembleConfig(), pollSeconds: Double = 2) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.authToken = authToken
        self.policy = policy
        self.ensembleConfig = ensembleConfig
        self.pollSeconds = pollSeconds
    }
}

/// The inference server: the model repository, one dynamic batcher per model, the Open Inference Protocol routes
/// (`InferenceRoutes`) on an `HTTPServer`, and the Prometheus metrics.
///
/// Lifecycle: `start()` loads the models (those that fail are reported, not fatal, unless none loads), binds and
/// starts the checkpoint poller; `shutdown()` is graceful: readiness goes false and new inference requests get 503,
/// the listening socket closes, every queued request is answered, then connections close.
///
///     let service = InferenceService(repository: "results/demo_checkpoints", backend: .cpu,
///                                    configuration: ServiceConfiguration(port: 0))
///     let failed = try service.start()      // [:] when all four models loaded
///     print(service.port)
///     service.shutdown()
public final class InferenceService: @unchecked Sendable {
    public let configuration: ServiceConfiguration
    public let repository: ModelRepository
    public let metrics: ServingMetrics
    public let backend: Backend
    let deviceName: String
    private var http: HTTPServer?
    private let lock = NSLock()
    private var draining = false
    private var stopped = false
    private var poller: Thread?

    public init(repository directory: String, backend: Backend, configuration: ServiceConfiguration) {
        self.configuration = configuration
        self.backend = backend
        metrics = ServingMetrics(maxBatch: configuration.policy.maxBatch)
        repository = ModelRepository(directory: directory, backend: backend, policy: configuration.policy,
                                     ensembleConfig: configuration.ensembleConfig, metrics: metrics)
        deviceName = (try? backend.info().name) ?? backend.name
        metrics.info.set(1, [AITraderVersion.string, backend.name, deviceName])
    }

    /// Loads the models and starts listening; returns the models that failed to load, with the reason.
    @discardableResult
    public func start() throws(ServingError) -> [String: String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: repository.directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .repository(path: repository.directory, message: "no such model repository directory (train the models first: "
                + "aitrader train --model all --checkpoint-dir \(repository.directory) ...)")
        }
        let failed = repository.loadAll()
        if repository.readyModels.isEmpty {
            throw .repository(path: repository.directory, message: "no model could be loaded: "
                + failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; "))
        }
        let routes = InferenceRoutes(service: self)
        let server = HTTPServer(configuration: .init(host: configuration.host, port: configuration.port,
                                                     maxBodyBytes: configuration.maxBodyBytes)) { request in routes.handle(request) }
        do { try server.start() } catch { throw .startup(error.description) }
        lock.lock()
        http = server
        lock.unlock()
        if configuration.pollSeconds > 0 {
            let thread = Thread { [self] in pollLoop() }
            thread.name = "aitrader-repository-poll"
            poller = thread
            thread.start()
        }
        return failed
    }

    /// The port listened on (after `start`).
    public var port: Int {
        lock.lock()
        defer { lock.unlock() }
        return http?.port ?? 0
    }

    public var isDraining: Bool {
        lock.lock()
        defer { lock.unlock() }
        return draining
    }

    /// Graceful stop: no new work, every queued request answered, then the server closes.
    public func shutdown() {
        lock.lock()
        guard !stopped else {
            lock.unlock()
            return
        }
        draining = true
        stopped = true
        let server = http
        lock.unlock()
        server?.quiesce()
        repository.shutdown()
        server?.stop(waiting: 10)
    }

    private func pollLoop() {
        let interval = configuration.pollSeconds
        while !isDraining {
            Thread.sleep(forTimeInterval: interval)
            if isDraining { return }
            let result = repository.reloadChanged()
            for name in result.reloaded { Log.info("serve: reloaded \(name) (its checkpoint changed)") }
            for (name, reason) in result.failed { Log.warning("serve: \(name) changed on disk but did not load, still serving the old one: \(reason)") }
        }
    }
}
