import Common
import Foundation
import Models
import Testing
@testable import Serving

@Suite("Model repository", .serialized)
struct RepositoryTests {
    @Test("a rewritten checkpoint is reloaded while requests stream, none dropped, then answers with the new weights")
    func reloadWithoutDropping() throws {
        let fixture = try ServingFixture()
        let (service, client) = try fixture.serve(pollSeconds: 0.05)
        defer { service.shutdown() }
        let (x, _, l) = try ServingFixture.inputs(.mediumTerm, rows: 1, seed: 5)
        let body = InferBody.json([("x", [1, l, 5], x)], outputs: ["alpha"])
        let before = try fixture.reference(.mediumTerm, x: x, close: nil, rows: 1)["alpha"]![0]
        let stop = ResultBox<Bool>(count: 1)
        stop.set(0, false)
        let statuses = concurrently(4) { i -> [Int] in
            if i == 0 {
                Thread.sleep(forTimeInterval: 0.1)
                try? fixture.writeCheckpoint(.mediumTerm, seed: 777)
                Thread.sleep(forTimeInterval: 0.5)
                stop.set(0, true)
                return []
            }
            var seen: [Int] = []
            while !stop.values[0] { seen.append((try? client.post("/v2/models/medium_term/infer", json: body).status) ?? -1) }
            return seen
        }
        let all = statuses.flatMap { $0 }
        #expect(!all.isEmpty && all.allSatisfy { $0 == 200 }, "statuses \(Set(all))")
        let after = try fixture.reference(.mediumTerm, x: x, close: nil, rows: 1)["alpha"]![0]
        #expect(after != before)
        let served = InferBody.outputs(try client.post("/v2/models/medium_term/infer", json: body))["alpha"]!.values[0]
        #expect(abs(served - after) <= 6.1e-5 * max(1, abs(after)))
        // The ensemble follows its member.
        let ensemble = try #require(service.repository.ready("ensemble").model as? EnsembleServedModel)
        #expect(ensemble.members[1].metadata.runID == "serving-test-medium_term-777")
    }

    @Test("unload drains and removes a model; load brings it back; a broken checkpoint keeps the reason")
    func loadAndUnload() throws {
        let fixture = try ServingFixture()
        let (service, client) = try fixture.serve()
        defer { service.shutdown() }
        #expect(try client.post("/v2/repository/models/long_term/unload", json: "").status == 200)
        #expect(try client.get("/v2/models/long_term/ready").status == 400)
        #expect(try client.get("/v2/health/ready").status == 503)
        let refused = try client.post("/v2/models/long_term/infer", json: "{}")
        #expect(refused.status == 400 && refused.errorMessage.contains("not loaded"))
        let index = try #require(try client.post("/v2/repository/index", json: "").json as? [[String: Any]])
        #expect(index.first { $0["name"] as? String == "long_term" }?["state"] as? String == "UNAVAILABLE")
        // The ensemble keeps serving with the members it was loaded with.
        #expect(try client.get("/v2/models/ensemble/ready").status == 200)
        #expect(try client.post("/v2/repository/models/long_term/load", json: "").status == 200)
        #expect(try client.get("/v2/health/ready").status == 200)

        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: fixture.path(.shortTerm)))
        let broken = try client.post("/v2/repository/models/short_term/load", json: "")
        #expect(broken.status == 400 && broken.errorMessage.contains("short_term"))
        #expect(try client.get("/v2/models/short_term/ready").status == 200, "the old model keeps serving")
    }

    @Test("a missing repository or one with no loadable model refuses to start, naming the directory")
    func startupErrors() throws {
        let missing = InferenceService(repository: "/nonexistent/models", backend: .cpu, configuration: ServiceConfiguration(port: 0))
        #expect(throws: ServingError.self) { try missing.start() }
        let empty = NSTemporaryDirectory() + "aitrader-serving-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let service = InferenceService(repository: empty, backend: .cpu, configuration: ServiceConfiguration(port: 0))
        do {
            try service.start()
            Issue.record("started without models")
        } catch {
            #expect(error.description.contains("no model could be loaded") && error.description.contains("short_term"))
        }
    }

    @Test("graceful shutdown answers the requests already queued")
    func shutdownDrains() throws {
        let fixture = try ServingFixture()
        let (service, client) = try fixture.serve(policy: BatchingPolicy(maxBatch: 64, maxQueueDelayMicroseconds: 300_000))
        let (x, _, l) = try ServingFixture.inputs(.shortTerm, rows: 1, seed: 1)
        let results = concurrently(5) { i -> Int in
            if i == 4 {
                Thread.sleep(forTimeInterval: 0.1)   // the four requests wait for the 300 ms queue delay
                service.shutdown()
                return 0
            }
            return (try? client.post("/v2/models/short_term/infer", json: InferBody.json([("x", [1, l, 5], x)])).status) ?? -1
        }
        #expect(Array(results.prefix(4)) == [200, 200, 200, 200])
    }
}
