import Common
import Foundation
import Models
import Testing
@testable import Serving

/// A model that echoes its input row sums and takes `delay` seconds per pass, recording each pass's rows.
final class EchoModel: ServedModel, @unchecked Sendable {
    let name = "echo"
    let signature = ModelSignature(inputs: [TensorSpec(name: "x", rowShape: [2])], outputs: [TensorSpec(name: "sum", rowShape: [])])
    let checkpointPaths: [String] = []
    let delay: Double
    private let lock = NSLock()
    private var passes: [Int] = []

    init(delay: Double) { self.delay = delay }

    var batches: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return passes
    }

    func run(_ batch: TensorBatch) throws(InferenceError) -> [OutputTensor] {
        lock.lock()
        passes.append(batch.rows)
        lock.unlock()
        Thread.sleep(forTimeInterval: delay)
        let x = batch.inputs["x"]!
        return [OutputTensor(name: "sum", shape: [batch.rows], values: .fp32((0..<batch.rows).map { x[2 * $0] + x[2 * $0 + 1] }))]
    }
}

/// Runs `count` closures at once on their own threads and returns their results in order.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>(count: count)
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread {
            results.set(i, body(i))
            group.leave()
        }.start()
    }
    group.wait()
    return results.values
}

final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) {
        lock.lock()
        slots[i] = v
        lock.unlock()
    }
    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

@Suite("Dynamic batching", .serialized)
struct BatchingTests {
    static func row(_ i: Int) -> TensorBatch { TensorBatch(rows: 1, inputs: ["x": [Float(i), 0.5]]) }

    @Test("requests arriving together share one pass and each gets its own rows back")
    func coalesces() throws {
        let model = EchoModel(delay: 0.05)
        let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(maxBatch: 8, maxQueueDelayMicroseconds: 200_000))
        defer { batcher.shutdown() }
        let results = concurrently(8) { i in batcher.submit(Self.row(i)) }
        for (i, r) in results.enumerated() {
            let out = try r.get()
            #expect(out[0].values == .fp32([Float(i) + 0.5]) && out[0].shape == [1])
        }
        #expect(model.batches.reduce(0, +) == 8)
        #expect(model.batches.count < 8, "passes \(model.batches)")
        #expect(model.batches.allSatisfy { $0 <= 8 })
    }

    @Test("a batch starts at the largest preferred size without waiting for the delay")
    func preferredSize() throws {
        let model = EchoModel(delay: 0)
        let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(maxBatch: 64, preferredBatchSizes: [2],
                                                                        maxQueueDelayMicroseconds: 5_000_000))
        defer { batcher.shutdown() }
        let start = Date()
        let results = concurrently(2) { i in batcher.submit(Self.row(i)) }
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(Date().timeIntervalSince(start) < 4, "waited for the 5 s delay instead of starting at the preferred size")
    }

    @Test("batching off runs every request alone")
    func disabled() throws {
        let model = EchoModel(delay: 0.01)
        let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(enabled: false, maxBatch: 8))
        defer { batcher.shutdown() }
        _ = concurrently(6) { i in batcher.submit(Self.row(i)) }
        #expect(model.batches == [1, 1, 1, 1, 1, 1])
    }

    @Test("a full queue answers 503 with Retry-After; a request past its timeout 504 and leaves the queue")
    func boundsAndTimeouts() throws {
        let model = EchoModel(delay: 0.3)
        let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(enabled: false, maxQueuedRequests: 1))
        defer { batcher.shutdown() }
        let results = concurrently(4) { i -> Result<[OutputTensor], InferenceError> in
            Thread.sleep(forTimeInterval: Double(i) * 0.05)   // 0 runs, 1 waits, 2 and 3 find the queue full
            return batcher.submit(Self.row(i))
        }
        #expect((try? results[0].get()) != nil && (try? results[1].get()) != nil)
        for r in results[2...] {
            guard case .failure(let e) = r else { Issue.record("expected 503"); continue }
            #expect(e.status == 503 && e.retryAfterSeconds == 1 && e.message.contains("queue is full"))
        }
        // Timeout: one request running for 0.3 s, the next queued with a 50 ms timeout.
        let timed = concurrently(2) { i -> Result<[OutputTensor], InferenceError> in
            Thread.sleep(forTimeInterval: Double(i) * 0.05)
            return batcher.submit(Self.row(i), timeoutMicroseconds: i == 0 ? nil : 50_000)
        }
        #expect((try? timed[0].get()) != nil)
        guard case .failure(let e) = timed[1] else { Issue.record("expected 504"); return }
        #expect(e.status == 504)
        #expect(batcher.queueDepth == 0)
    }

    @Test("drain answers every queued request, then refuses new ones")
    func drain() throws {
        let model = EchoModel(delay: 0.05)
        let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(enabled: false))
        let results = concurrently(6) { i -> Result<[OutputTensor], InferenceError> in
            if i == 5 {
                Thread.sleep(forTimeInterval: 0.05)
                batcher.shutdown()
                return batcher.submit(Self.row(99))
            }
            return batcher.submit(Self.row(i))
        }
        for r in results.prefix(5) { #expect((try? r.get()) != nil) }
        guard case .failure(let e) = results[5] else { Issue.record("expected a refusal after shutdown"); return }
        #expect(e.status == 503)
    }

    @Test("over HTTP: concurrent requests are batched and equal the unbatched forward row by row")
    func batchedEqualsUnbatched() throws {
        let fixture = try ServingFixture()
        let (service, client) = try fixture.serve(policy: BatchingPolicy(maxBatch: 16, maxQueueDelayMicroseconds: 100_000))
        defer { service.shutdown() }
        let n = 12
        let (x, _, l) = try ServingFixture.inputs(.shortTerm, rows: n, seed: 99)
        let rowSize = l * 5
        let responses = concurrently(n) { i in
            try? client.post("/v2/models/short_term/infer",
                             json: InferBody.json([("x", [1, l, 5], Array(x[(i * rowSize)..<((i + 1) * rowSize)]))]))
        }
        let reference = try fixture.reference(.shortTerm, x: x, close: nil, rows: n)
        for (i, response) in responses.enumerated() {
            let r = try #require(response)
            #expect(r.status == 200, "\(r.text)")
            let out = InferBody.outputs(r)
            for name in ["alpha", "beta", "p_up", "confidence"] {
                let got = try #require(out[name]?.values.first), want = reference[name]![i]
                // Bound: a reordered float32 sum (README: batching); measured a few ulp.
                #expect(abs(got - want) <= 6.1e-5 * max(1, abs(want)), "row \(i) \(name): \(got) vs \(want)")
            }
            #expect(out["direction"]?.values.first == reference["direction"]![i])
        }
        let passes = service.metrics.batchRequests.summary(["short_term"])
        #expect(passes.sum == Double(n) && passes.count < UInt64(n), "\(passes.count) passes for \(n) requests")
    }
}
