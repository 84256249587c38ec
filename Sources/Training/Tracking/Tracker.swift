import Foundation

/// Where the runs of `aitrader train` are recorded: a run is started under an experiment with its parameters and
/// tags, receives metrics per step, tags and artifact files while it trains, and is ended with its status.
/// `LocalTracker` (SQLite under the data root) is the default and always written; `MLflowTracker` mirrors runs to
/// an MLflow tracking server. Callers go through `TrackedRun`, which never lets a tracker failure end training.
///
///     let tracker = try LocalTracker(root: dataRoot + "/runs")
///     let id = try await tracker.startRun(experiment: "train-short_term", name: "short_term-1a2b", params: ["seed": "42"], tags: [:])
///     try await tracker.logMetrics(runID: id, [TrackedMetric(key: "val_loss", value: 0.69, step: 1)])
///     try await tracker.endRun(runID: id, status: .finished)
public protocol Tracker: Sendable {
    /// Where runs go, for messages (a path or a URI without credentials).
    var destination: String { get }
    /// Creates the experiment if needed and starts a run in it; returns the run's id.
    func startRun(experiment: String, name: String, params: [String: String], tags: [String: String])
        async throws(TrackingError) -> String
    func logMetrics(runID: String, _ metrics: [TrackedMetric]) async throws(TrackingError)
    /// Sets (or overwrites) tags.
    func setTags(runID: String, _ tags: [String: String]) async throws(TrackingError)
    /// Records the file at `path` as an artifact of the run under `name` (a relative path such as
    /// `checkpoints/best.safetensors`).
    func logArtifact(runID: String, path: String, name: String) async throws(TrackingError)
    func endRun(runID: String, status: RunStatus) async throws(TrackingError)
}

/// How a run ended (MLflow's names): RUNNING until it ends.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running = "RUNNING"
    case finished = "FINISHED"
    case failed = "FAILED"
    case killed = "KILLED"
}

/// One metric value at a step; `timestamp` in UTC epoch ms.
public struct TrackedMetric: Sendable, Equatable, Codable {
    public var key: String
    public var value: Double
    public var step: Int
    public var timestamp: Int64

    public init(key: String, value: Double, step: Int, timestamp: Int64 = TrackedMetric.now()) {
        self.key = key
        self.value = value
        self.step = step
        self.timestamp = timestamp
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
