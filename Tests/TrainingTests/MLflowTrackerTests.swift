import Common
import Foundation
import Testing
import TestSupport
@testable import Training

/// The MLflow tracker's wire format against a stand-in server that speaks MLflow's REST 2.0 shapes
/// (Fixtures/fake_mlflow_server.py, 127.0.0.1): which calls, in which order, with which bodies. The real server is
/// exercised by `make test-mlflow` (MLflowLiveTests).
@Suite(.serialized, .enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason)))
struct MLflowTrackerTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fake_mlflow_server.py").path

    func server(_ arguments: [String] = []) throws -> PythonServer {
        try #require(try PythonServer.start(script: Self.script, arguments: ["--lifetime", "600"] + arguments),
                     "python3 is not on PATH")
    }

    /// Every call the server saw: (method, path without the API prefix, JSON body or artifact size).
    func calls(_ s: PythonServer) throws -> [[String: Any]] {
        let r = try Subprocess.run("/usr/bin/env", ["python3", "-c",
            "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
            "http://127.0.0.1:\(s.port)/_requests"])
        return try #require(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
    }

    static func api(_ call: [String: Any]) -> String {
        let path = call["path"] as? String ?? ""
        return path.replacingOccurrences(of: "/api/2.0/mlflow/", with: "")
    }

    @Test func aRunGoesOutInMLflowsShapes() async throws {
        let s = try server()
        defer { s.stop() }
        let tracker = try MLflowTracker(uri: "http://127.0.0.1:\(s.port)", timeout: 10)
        // 150 params: two log-batch calls (MLflow accepts at most 100 per batch), sorted by key.
        let params = Dictionary(uniqueKeysWithValues: (0 ..< 150).map { (String(format: "p%03d", $0), "\($0)") })
        let id = try await tracker.startRun(experiment: "wire", name: "first", params: params, tags: ["model": "short_term"])
        try await tracker.logMetrics(runID: id, [TrackedMetric(key: "val_loss", value: -0.25, step: 1, timestamp: 1000),
                                                 TrackedMetric(key: "val_loss", value: -0.5, step: 2, timestamp: 2000)])
        try await tracker.setTags(runID: id, ["symbol": "EURUSD"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-mlflow-\(UUID().uuidString)").path
        try Data(repeating: 7, count: 1234).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await tracker.logArtifact(runID: id, path: file, name: "checkpoints/best model.safetensors")
        try await tracker.endRun(runID: id, status: .finished)

        let seen = try calls(s)
        #expect(seen.map(Self.api) == ["experiments/get-by-name", "experiments/create", "runs/create", "runs/log-batch",
                                       "runs/log-batch", "runs/log-batch", "runs/log-batch",
                                       "/api/2.0/mlflow-artifacts/artifacts/1/run1/artifacts/checkpoints/best%20model.safetensors",
                                       "runs/update"], "\(seen.map(Self.api))")
        let create = try #require(seen[2]["body"] as? [String: Any])
        #expect(create["experiment_id"] as? String == "1" && create["run_name"] as? String == "first")
        #expect((create["tags"] as? [[String: String]]) == [["key": "model", "value": "short_term"]])
        let firstParams = try #require((seen[3]["body"] as? [String: Any])?["params"] as? [[String: String]])
        let secondParams = try #require((seen[4]["body"] as? [String: Any])?["params"] as? [[String: String]])
        #expect(firstParams.count == 100 && secondParams.count == 50)
        #expect((firstParams + secondParams).map { $0["key"]! } == params.keys.sorted())
        let metrics = try #require((seen[5]["body"] as? [String: Any])?["metrics"] as? [[String: Any]])
        #expect(metrics.count == 2 && metrics[1]["key"] as? String == "val_loss" && metrics[1]["value"] as? Double == -0.5
                && metrics[1]["step"] as? Int == 2 && metrics[1]["timestamp"] as? Int == 2000, "\(metrics)")
        #expect(((seen[6]["body"] as? [String: Any])?["tags"] as? [[String: String]]) == [["key": "symbol", "value": "EURUSD"]])
        #expect(seen[7]["method"] as? String == "PUT" && seen[7]["bytes"] as? Int == 1234)
        let update = try #require(seen[8]["body"] as? [String: Any])
        #expect(update["run_id"] as? String == id && update["status"] as? String == "FINISHED")

        // The same experiment again: found by name, not created twice.
        _ = try await tracker.startRun(experiment: "wire", name: "second", params: [:], tags: [:])
        let again = try calls(s).dropFirst(seen.count).map(Self.api)
        #expect(Array(again) == ["experiments/get-by-name", "runs/create"], "\(again)")
    }

    /// A server that stops answering: the tracker throws a typed error naming the call (TrackedRun turns that into
    /// one warning and keeps the run in the local store, see TrackingTests).
    @Test func serverErrorsAreTypedAndNameTheCall() async throws {
        let s = try server(["--fail-after", "3"])
        defer { s.stop() }
        let tracker = try MLflowTracker(uri: "http://127.0.0.1:\(s.port)", timeout: 10)
        let id = try await tracker.startRun(experiment: "down", name: "r", params: [:], tags: [:])
        do {
            try await tracker.endRun(runID: id, status: .failed)
            Issue.record("the server answered 503")
        } catch {
            guard case let .server(_, call, message) = error else { Issue.record("\(error)"); return }
            #expect(call.contains("runs/update") && !message.isEmpty, "\(error)")
        }
    }
}
