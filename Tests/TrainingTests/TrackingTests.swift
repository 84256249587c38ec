import Foundation
import MarketData
import Testing
@testable import Training

/// Collects the warnings a `TrackedRun` prints.
final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    var all: [String] { lock.withLock { lines } }
    func add(_ line: String) { lock.withLock { lines.append(line) } }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
func closedLocalPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite(.serialized) struct TrackingTests {
    @Test func theLocalStoreKeepsRunsParamsTagsMetricsAndArtifacts() throws {
        let dir = TrainingFixture.directory("tracking-local")
        let store = try LocalTracker(root: dir + "/runs")
        #expect(try store.schemaVersion() == LocalTracker.migrations.last!.version)
        let a = try store.startRun(experiment: "train-short_term", name: "a", params: ["seed": "1", "lr": "0.001"], tags: ["symbol": "EURUSD"])
        try store.logMetrics(runID: a, [TrackedMetric(key: "val_loss", value: 0.7, step: 1), TrackedMetric(key: "val_loss", value: 0.6, step: 2)])
        try store.setTags(runID: a, ["symbol": "GBPUSD", "note": "x"])
        try "hello".write(toFile: dir + "/config.yaml", atomically: true, encoding: .utf8)
        try store.logArtifact(runID: a, path: dir + "/config.yaml", name: "config/config.yaml")
        try store.endRun(runID: a, status: .finished)
        let b = try store.startRun(experiment: "train-long_term", name: "b", params: ["seed": "2"], tags: [:])

        let runs = try store.runs()
        #expect(runs.map(\.id) == [b, a])
        #expect(try store.runs(experiment: "train-short_term").map(\.id) == [a])
        let record = try store.run(String(a.prefix(8)))
        #expect(record.status == .finished && record.endTime != nil && record.name == "a")
        #expect(record.params == ["seed": "1", "lr": "0.001"])
        #expect(record.tags == ["symbol": "GBPUSD", "note": "x"])
        #expect(record.latestMetrics == ["val_loss": 0.6])
        #expect(record.artifacts == ["config/config.yaml"])
        #expect(try String(contentsOfFile: record.artifactDirectory + "/config/config.yaml", encoding: .utf8) == "hello")
        #expect(try store.metrics(runID: a, key: "val_loss").map(\.step) == [1, 2])
        #expect(try store.run(b).status == .running)
        #expect(throws: TrackingError.unknownRun("nope")) { try store.run("nope") }
        #expect(throws: TrackingError.self) { try store.logMetrics(runID: "nope", []) }
        #expect(throws: TrackingError.self) { try store.logArtifact(runID: a, path: dir + "/config.yaml", name: "../escape") }

        // Reopening applies nothing twice; a read-only open sees the same runs and creates nothing elsewhere.
        #expect(try LocalTracker(root: dir + "/runs").runs().count == 2)
        #expect(try LocalTracker(readOnlyRoot: dir + "/runs").run(a).latestMetrics == ["val_loss": 0.6])
        #expect(throws: TrackingError.self) { try LocalTracker(readOnlyRoot: dir + "/none") }
        #expect(!FileManager.default.fileExists(atPath: dir + "/none"))
        let mode = try store.database.query("PRAGMA journal_mode").first?.first?.string
        #expect(mode == "wal")
    }

    @Test func aStoreWithANewerSchemaIsRefused() throws {
        let dir = TrainingFixture.directory("tracking-newer")
        let store = try LocalTracker(root: dir)
        try store.database.run("INSERT INTO schema_version (version, summary, applied_at) VALUES (99, 'future', 0)")
        #expect(throws: TrackingError.self) { try LocalTracker(root: dir) }
        #expect(throws: TrackingError.self) { try LocalTracker(readOnlyRoot: dir) }
    }

    @Test func paramsAreTheTrainingConfigFlattened() throws {
        let dir = TrainingFixture.directory("tracking-params")
        let config = try TrainingFixture.config(in: dir)
        let params = TrainingTracking.params(config)
        #expect(params["epochs"] == "3")
        #expect(params["batch_size"] == "16")
        #expect(params["seed"] == "11")
        #expect(params["label.horizon"] == "4")
        #expect(params["symbols"] == #"["TEST"]"#)
        #expect(params["model_type"] == "short_term")
        #expect(params.values.allSatisfy { !$0.isEmpty })
    }

    /// A real training run tracked end to end: per-epoch metrics, tags, artifacts, FINISHED; then an interrupted one
    /// is KILLED and a failing one FAILED.
    @Test func trainingRunsAreTrackedWithTheirStatus() async throws {
        let dir = TrainingFixture.directory("tracking-train")
        let store = try LocalTracker(root: dir + "/runs")
        let warnings = Warnings()
        let trainer = try TrainingFixture.trainer(try TrainingFixture.config(in: dir))
        let tracked = await TrackedRun.start(local: store, mirror: nil, experiment: "train-short_term", name: trainer.runID,
                                             params: TrainingTracking.params(trainer.plan.config),
                                             tags: TrainingTracking.tags(trainer.plan, device: "cpu"), warn: warnings.add)
        trainer.onEpoch = { tracked.log(TrainingTracking.metrics($0)) }
        guard case .finished(let summary) = try trainer.run() else { Issue.record("interrupted"); return }
        tracked.logArtifact(path: summary.best!, name: "checkpoints/best.safetensors")
        tracked.logArtifact(path: summary.last, name: "checkpoints/last.safetensors")
        await tracked.end(.finished)
        let record = try store.run(tracked.localRunID!)
        #expect(record.status == .finished)
        #expect(Set(record.latestMetrics.keys) == ["train_loss", "val_loss", "val_accuracy", "samples_per_s", "lr"])
        #expect(try store.metrics(runID: record.id, key: "val_loss").map(\.step) == [1, 2, 3])
        #expect(record.tags["model_type"] == "short_term" && record.tags["symbol"] == "TEST" && record.tags["timeframe"] == "1h")
        #expect(record.tags["code_version"] != nil)
        #expect(record.artifacts == ["checkpoints/best.safetensors", "checkpoints/last.safetensors"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: record.artifactDirectory + "/checkpoints/best.safetensors"))
                == Data(contentsOf: URL(fileURLWithPath: summary.best!)))
        #expect(warnings.all.isEmpty)

        // Interrupted: KILLED, with the metrics logged before the interrupt.
        let second = TrainingFixture.directory("tracking-train-killed")
        let interrupted = try TrainingFixture.trainer(try TrainingFixture.config(in: second))
        let killed = await TrackedRun.start(local: store, mirror: nil, experiment: "train-short_term", name: "k", params: [:], tags: [:], warn: warnings.add)
        interrupted.onEpoch = { killed.log(TrainingTracking.metrics($0)) }
        var steps = 0
        interrupted.shouldStop = { steps += 1; return steps == 6 }
        guard case .interrupted = try interrupted.run() else { Issue.record("not interrupted"); return }
        await killed.end(.killed)
        let k = try store.run(killed.localRunID!)
        #expect(k.status == .killed && k.endTime != nil)
        #expect(try store.metrics(runID: k.id, key: "val_loss").map(\.step) == [1])

        // Failed (a resume from a checkpoint that is not there).
        let failing = try TrainingFixture.trainer(try TrainingFixture.config(in: TrainingFixture.directory("tracking-train-failed")))
        let failed = await TrackedRun.start(local: store, mirror: nil, experiment: "train-short_term", name: "f", params: [:], tags: [:], warn: warnings.add)
        do { _ = try failing.run(resume: dir + "/missing.safetensors"); Issue.record("no error") } catch {
            await failed.end(.failed)
        }
        #expect(try store.run(failed.localRunID!).status == .failed)
        #expect(try store.runs(experiment: "train-short_term").count == 3)
        #expect(warnings.all.isEmpty)
    }

    /// A tracking server that is not there: the run completes, the local store has all of it, one warning says so.
    @Test func anUnreachableMLflowServerFallsBackToTheLocalStoreWithOneWarning() async throws {
        let dir = TrainingFixture.directory("tracking-fallback")
        let store = try LocalTracker(root: dir + "/runs")
        let mirror = try MLflowTracker(uri: "http://127.0.0.1:\(closedLocalPort())", timeout: 5)
        let warnings = Warnings()
        let trainer = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 2))
        let tracked = await TrackedRun.start(local: store, mirror: mirror, experiment: "train-short_term", name: trainer.runID,
                                             params: TrainingTracking.params(trainer.plan.config), tags: [:], warn: warnings.add)
        trainer.onEpoch = { tracked.log(TrainingTracking.metrics($0)) }
        guard case .finished = try trainer.run() else { Issue.record("interrupted"); return }
        await tracked.end(.finished)
        #expect(tracked.mirrorRunID == nil)
        let record = try store.run(tracked.localRunID!)
        #expect(record.status == .finished)
        #expect(try store.metrics(runID: record.id, key: "train_loss").count == 2)
        #expect(warnings.all.count == 1, "\(warnings.all)")
        #expect(warnings.all.first?.contains("the run is tracked in the local store only") == true, "\(warnings.all)")
        #expect(throws: TrackingError.self) { try MLflowTracker(uri: "file:mlruns") }
        #expect(try MLflowTracker(uri: "http://user:secret@127.0.0.1:5000/").destination == "http://127.0.0.1:5000")
    }

    @Test func theMLflowURIComesFromTheOptionElseTheEnvironment() {
        #expect(MLflowTracker.configuredURI(option: "http://a:1", environment: ["MLFLOW_TRACKING_URI": "http://b:2"]) == "http://a:1")
        #expect(MLflowTracker.configuredURI(option: nil, environment: ["MLFLOW_TRACKING_URI": "http://b:2"]) == "http://b:2")
        #expect(MLflowTracker.configuredURI(option: nil, environment: [:]) == nil)
    }
}
