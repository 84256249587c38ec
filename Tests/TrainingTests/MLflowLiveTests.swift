import Foundation
import MarketData
import Venues
import Testing
@testable import Training

/// Against a real MLflow tracking server (`make test-mlflow` starts one on 127.0.0.1 and sets AITRADER_MLFLOW_URI):
/// a tracked training run is read back through the REST API — params, tags, metric history, status, artifacts.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["AITRADER_MLFLOW_URI"] != nil))
struct MLflowLiveTests {
    let uri = ProcessInfo.processInfo.environment["AITRADER_MLFLOW_URI"] ?? ""

    func get(_ path: String, _ query: [(String, String)]) async throws -> [String: Any] {
        let response = try await HTTPClient().get(uri + "/api/2.0/mlflow/" + path, query: query)
        return try JSONSerialization.jsonObject(with: response.body) as? [String: Any] ?? [:]
    }

    @Test func aTrackedTrainingRunReadsBackThroughTheRESTAPI() async throws {
        let dir = TrainingFixture.directory("mlflow-live")
        let store = try LocalTracker(root: dir + "/runs")
        let mirror = try MLflowTracker(uri: uri)
        let warnings = Warnings()
        let trainer = try TrainingFixture.trainer(try TrainingFixture.config(in: dir))
        let experiment = "aitrader-test-\(getpid())-\(Int(Date().timeIntervalSince1970))"
        let tracked = await TrackedRun.start(local: store, mirror: mirror, experiment: experiment, name: trainer.runID,
                                             params: TrainingTracking.params(trainer.plan.config),
                                             tags: TrainingTracking.tags(trainer.plan, device: "cpu"), warn: warnings.add)
        trainer.onEpoch = { tracked.log(TrainingTracking.metrics($0)) }
        guard case .finished(let summary) = try trainer.run() else { Issue.record("interrupted"); return }
        tracked.logArtifact(path: summary.best!, name: "checkpoints/best.safetensors")
        await tracked.end(.finished)
        #expect(warnings.all.isEmpty, "\(warnings.all)")
        let runID = try #require(tracked.mirrorRunID)

        let run = try await get("runs/get", [("run_id", runID)])["run"] as? [String: Any] ?? [:]
        let info = run["info"] as? [String: Any] ?? [:]
        let data = run["data"] as? [String: Any] ?? [:]
        #expect(info["status"] as? String == "FINISHED")
        #expect(info["run_name"] as? String == trainer.runID)
        #expect(info["end_time"] != nil)
        func pairs(_ key: String) -> [String: String] {
            var out: [String: String] = [:]
            for item in data[key] as? [[String: Any]] ?? [] { out[item["key"] as? String ?? ""] = item["value"] as? String }
            return out
        }
        let params = pairs("params")
        #expect(params == TrainingTracking.params(trainer.plan.config))
        #expect(pairs("tags")["model_type"] == "short_term" && pairs("tags")["symbol"] == "TEST")

        let history = try await get("metrics/get-history", [("run_id", runID), ("metric_key", "val_loss")])["metrics"] as? [[String: Any]] ?? []
        let local = try store.metrics(runID: tracked.localRunID!, key: "val_loss")
        #expect(history.compactMap { ($0["step"] as? NSNumber)?.intValue }.sorted() == [1, 2, 3])
        let values = history.sorted { (($0["step"] as? NSNumber)?.intValue ?? 0) < (($1["step"] as? NSNumber)?.intValue ?? 0) }
            .compactMap { ($0["value"] as? NSNumber)?.doubleValue }
        // The server stores what it parsed: equal to the last bits of the decimal round trip.
        #expect(values.count == local.count && zip(values, local).allSatisfy { abs($0 - $1.value) <= 1e-12 * abs($1.value) }, "\(values)")

        let artifacts = try await get("artifacts/list", [("run_id", runID), ("path", "checkpoints")])["files"] as? [[String: Any]] ?? []
        #expect(artifacts.contains { $0["path"] as? String == "checkpoints/best.safetensors" }, "\(artifacts)")
        let size = artifacts.first { $0["path"] as? String == "checkpoints/best.safetensors" }?["file_size"] as? NSNumber
        let bytes = try FileManager.default.attributesOfItem(atPath: summary.best!)[.size] as? NSNumber
        #expect(size?.intValue == bytes?.intValue)

        // The same experiment is found again (get-by-name), and a KILLED status is recorded.
        let second = try await mirror.startRun(experiment: experiment, name: "again", params: [:], tags: [:])
        try await mirror.endRun(runID: second, status: .killed)
        let again = try await get("runs/get", [("run_id", second)])["run"] as? [String: Any] ?? [:]
        #expect((again["info"] as? [String: Any])?["status"] as? String == "KILLED")
        #expect((again["info"] as? [String: Any])?["experiment_id"] as? String == info["experiment_id"] as? String)
    }
}
