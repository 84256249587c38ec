import Foundation

/// One run as training sees it: written to the local store (synchronously, so a killed process keeps every metric
/// logged so far) and mirrored, in order, to an optional second tracker (MLflow) by a background task. It never
/// throws: a failing tracker is reported once through `warn` and dropped, and training goes on — the local store
/// alone when the mirror fails, untracked when the local store fails.
///
///     let run = await TrackedRun.start(local: try? LocalTracker(root: "data/runs"), mirror: nil,
///                                      experiment: "train-short_term", name: "r", params: [:], tags: [:]) { print($0) }
///     run.log([TrackedMetric(key: "val_loss", value: 0.69, step: 1)])
///     await run.end(.finished)
public final class TrackedRun: @unchecked Sendable {
    enum Event: Sendable {
        case metrics([TrackedMetric])
        case tags([String: String])
        case artifact(path: String, name: String)
        case end(RunStatus)
    }

    private let lock = NSLock()
    private var local: LocalTracker?
    /// The local store's run id (nil when the local store failed).
    public private(set) var localRunID: String?
    /// The mirror's run id (nil without a mirror, or after it failed).
    public private(set) var mirrorRunID: String?
    private let warn: @Sendable (String) -> Void
    private let events: AsyncStream<Event>.Continuation
    private let worker: Task<Void, Never>
    private var ended = false

    private init(local: LocalTracker?, localRunID: String?, mirror: (any Tracker)?, mirrorRunID: String?,
                 warn: @escaping @Sendable (String) -> Void) {
        self.local = local
        self.localRunID = localRunID
        self.mirrorRunID = mirrorRunID
        self.warn = warn
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        events = continuation
        let box = MirrorBox(tracker: mirrorRunID == nil ? nil : mirror, runID: mirrorRunID, warn: warn, fallback: local?.destination)
        worker = Task { await box.drain(stream) }
    }

    /// Starts the run in `local` and in `mirror`; a tracker that cannot start it is reported and left out.
    public static func start(local: LocalTracker?, mirror: (any Tracker)?, experiment: String, name: String,
                             params: [String: String], tags: [String: String],
                             warn: @escaping @Sendable (String) -> Void) async -> TrackedRun {
        var localID: String?
        if let local {
            do { localID = try local.startRun(experiment: experiment, name: name, params: params, tags: tags) } catch {
                warn(Self.localFailure(error))
            }
        }
        var mirrorID: String?
        if let mirror {
            do { mirrorID = try await mirror.startRun(experiment: experiment, name: name, params: params, tags: tags) } catch {
                warn(Self.mirrorFailure(error, mirror: mirror, fallback: localID == nil ? nil : local?.destination))
            }
        }
        return TrackedRun(local: localID == nil ? nil : local, localRunID: localID, mirror: mirror, mirrorRunID: mirrorID, warn: warn)
    }

    static func localFailure(_ error: TrackingError) -> String {
        "warning: run tracking failed (\(error)); training goes on without the local tracking store"
    }

    static func mirrorFailure(_ error: TrackingError, mirror: any Tracker, fallback: String?) -> String {
        "warning: tracking to \(mirror.destination) failed (\(error)); "
            + (fallback.map { "the run is tracked in the local store only (\($0))" } ?? "the run is not tracked")
    }

    /// Runs `body` on the local store; on failure warns once and stops using it.
    private func locally(_ body: (LocalTracker, String) throws(TrackingError) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard let local, let id = localRunID, !ended else { return }
        do { try body(local, id) } catch {
            warn(Self.localFailure(error))
            self.local = nil
        }
    }

    public func log(_ metrics: [TrackedMetric]) {
        locally { (t, id) throws(TrackingError) in try t.logMetrics(runID: id, metrics) }
        events.yield(.metrics(metrics))
    }

    public func setTags(_ tags: [String: String]) {
        locally { (t, id) throws(TrackingError) in try t.setTags(runID: id, tags) }
        events.yield(.tags(tags))
    }

    /// Records the file as an artifact; a missing file is skipped.
    public func logArtifact(path: String, name: String) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        locally { (t, id) throws(TrackingError) in try t.logArtifact(runID: id, path: path, name: name) }
        events.yield(.artifact(path: path, name: name))
    }

    /// Ends the run everywhere and waits until the mirror has everything; later calls do nothing.
    public func end(_ status: RunStatus) async {
        locally { (t, id) throws(TrackingError) in try t.endRun(runID: id, status: status) }
        lock.withLock { ended = true }
        events.yield(.end(status))
        events.finish()
        await worker.value
    }
}

/// The mirror's side of a `TrackedRun`: applies the events in order; after the first failure it warns once and
/// drops the rest (an artifact upload failure is reported once and the rest still goes).
private final class MirrorBox: Sendable {
    let tracker: (any Tracker)?
    let runID: String?
    let warn: @Sendable (String) -> Void
    let fallback: String?

    init(tracker: (any Tracker)?, runID: String?, warn: @escaping @Sendable (String) -> Void, fallback: String?) {
        self.tracker = tracker
        self.runID = runID
        self.warn = warn
        self.fallback = fallback
    }

    func drain(_ stream: AsyncStream<TrackedRun.Event>) async {
        var failed = false, artifactWarned = false
        for await event in stream {
            guard !failed, let tracker, let runID else { continue }
            do {
                switch event {
                case .metrics(let m): try await tracker.logMetrics(runID: runID, m)
                case .tags(let t): try await tracker.setTags(runID: runID, t)
                case .artifact(let path, let name):
                    // An artifact the server cannot take leaves the run's metrics and status to log.
                    do { try await tracker.logArtifact(runID: runID, path: path, name: name) } catch {
                        if !artifactWarned { warn("warning: artifact upload to \(tracker.destination) failed (\(error)); artifacts are in the local store") }
                        artifactWarned = true
                    }
                case .end(let status): try await tracker.endRun(runID: runID, status: status)
                }
            } catch {
                failed = true
                warn(TrackedRun.mirrorFailure(error, mirror: tracker, fallback: fallback))
            }
        }
    }
}
