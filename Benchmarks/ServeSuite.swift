import Common
import Engine
import Foundation
import Models
import Serving

/// `aitrader bench --suite serve`: the inference server under load, batching on and off, against the in-process
/// forward. Design-size models with seeded weights are written to a scratch repository and served on 127.0.0.1;
/// for each model and concurrency 1, 4, 16, 64 that many keep-alive clients send one-row binary requests
/// back to back for a fixed time (perf_analyzer's closed loop):
/// - `serve_<model>` {concurrency, batching 1|0}: median latency (ms) with `throughput_rps`, `p99_ms` and
///   `mean_batch_rows` (rows per forward pass in the server) and `server_compute_ms` (the server's mean forward pass);
/// - `inprocess_<model>` {rows: 1 | 16}: the served model's forward in process (median ms) — the compute a batch of
///   16 costs is what p99 at concurrency 16 is compared with;
/// - `serve_<model>_summary`: `speedup_c16` (throughput batching on / off at concurrency 16), `p99_c16_over_batch16`
///   `overhead_c1_us` (median latency at concurrency 1 without batching minus the in-process 1-row forward, which
///   was timed a few seconds earlier: on a shared host the two drift by more than the overhead),
///   `serving_overhead_c1_us` (the same latency minus the server's own forward passes in that same sweep), and
///   `compute_bound_speedup_c16` = 16 · t(1 row) / t(16 rows) in process: what batching 16 requests could gain with
///   no serving cost at all, since each row still costs its arithmetic. Where a 1-row pass already keeps the cores
///   busy (matrix products over the whole window), that bound is low and `speedup_c16` cannot pass it.
/// Goals (issue 17, 2 CPU threads): speedup_c16 ≥ 4, p99_c16_over_batch16 ≤ 2, overhead_c1_us ≤ 200.
/// `--filter` picks models (`short_term`, `ensemble`); `--quick`: short_term only, 0.3 s per point.
public enum ServeSuite: BenchSuite {
    public static let name = "serve"
    static let concurrencies = [1, 4, 16, 64]

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let dir = NSTemporaryDirectory() + "aitrader-bench-serve-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for model in ModelType.allCases {
            let network = try HorizonModels.make(.defaults(model), backend: .cpu, seed: 9, trainable: false)
            try FileManager.default.createDirectory(atPath: "\(dir)/\(model.rawValue)", withIntermediateDirectories: true)
            let names = (0..<network.configuration.inputFeatures).map { "f\($0)" }
            try Checkpoint.save(network, metadata: CheckpointMetadata(featureNames: names, runID: "bench"),
                                to: "\(dir)/\(model.rawValue)/best.safetensors")
        }
        let models = options.quick ? ["short_term"]
            : ModelRepository.modelNames.filter { options.filter == nil || options.includes("serve_\($0)") }
        let seconds = options.quick ? 0.3 : 2.0
        for modelName in models {
            var throughputC16: [Bool: Double] = [:], p99C16 = 0.0, p50C1Off = 0.0, serverComputeC1Off = 0.0
            var computeMs: [Int: Double] = [:]
            for batching in [true, false] {
                let policy = BatchingPolicy(enabled: batching, maxBatch: 64, maxQueueDelayMicroseconds: 500, maxQueuedRequests: 1024)
                let service = InferenceService(repository: dir, backend: backend,
                                               configuration: ServiceConfiguration(port: 0, policy: policy, pollSeconds: 0))
                try service.start()
                defer { service.shutdown() }
                let (model, _) = try service.repository.ready(modelName)
                if batching {
                    for rows in [1, 16] {
                        let batch = TensorBatch(rows: rows, inputs: inputs(model.signature, rows: rows))
                        computeMs[rows] = try Stopwatch.median(runs: options.quick ? 5 : 30, warmup: 3) { _ = try model.run(batch) }
                        report.results.append(BenchResult(name: "inprocess_\(modelName)", shape: [("rows", rows)], ms: computeMs[rows]!,
                                                          runs: options.quick ? 5 : 30))
                    }
                }
                let request = body(model.signature, port: service.port, model: modelName)
                for c in concurrencies {
                    let before = service.metrics.batchSize.summary([modelName])
                    let computeBefore = service.metrics.computeTime.summary([modelName])
                    let point = try sweep(port: service.port, request: request, concurrency: c, seconds: seconds)
                    let after = service.metrics.batchSize.summary([modelName])
                    let computeAfter = service.metrics.computeTime.summary([modelName])
                    let passes = Double(after.count - before.count)
                    let serverComputeMs = passes > 0 ? (computeAfter.sum - computeBefore.sum) / passes * 1000 : 0
                    report.results.append(BenchResult(
                        name: "serve_\(modelName)", shape: [("concurrency", c), ("batching", batching ? 1 : 0)], ms: point.p50,
                        runs: point.count,
                        extra: [("throughput_rps", point.throughput), ("p99_ms", point.p99), ("errors", Double(point.errors)),
                                ("mean_batch_rows", passes > 0 ? (after.sum - before.sum) / passes : 0),
                                ("server_compute_ms", serverComputeMs)]))
                    if c == 16 {
                        throughputC16[batching] = point.throughput
                        if batching { p99C16 = point.p99 }
                    }
                    if c == 1 && !batching {
                        p50C1Off = point.p50
                        serverComputeC1Off = serverComputeMs
                    }
                }
            }
            report.results.append(BenchResult(
                name: "serve_\(modelName)_summary", shape: [], ms: p50C1Off, runs: 1,
                extra: [("speedup_c16", (throughputC16[true] ?? 0) / max(throughputC16[false] ?? 1, 1e-9)),
                        ("p99_c16_over_batch16", p99C16 / max(computeMs[16] ?? 1, 1e-9)),
                        ("overhead_c1_us", (p50C1Off - (computeMs[1] ?? 0)) * 1000),
                        ("serving_overhead_c1_us", (p50C1Off - serverComputeC1Off) * 1000),
                        ("compute_bound_speedup_c16", 16 * (computeMs[1] ?? 0) / max(computeMs[16] ?? 1, 1e-9))]))
        }
        return report
    }

    /// Seeded inputs in [-1, 1] for every non-optional input (`rows` rows).
    static func inputs(_ signature: ModelSignature, rows: Int) -> [String: [Float]] {
        var rng = SplitMix64(seed: 17)
        var out: [String: [Float]] = [:]
        for spec in signature.inputs where !spec.optional {
            out[spec.name] = (0..<(rows * spec.rowElements)).map { _ in Float(Double(rng.next() >> 11) / Double(1 << 53)) * 2 - 1 }
        }
        return out
    }

    /// One-row binary request (binary outputs, as perf_analyzer asks for them).
    static func body(_ signature: ModelSignature, port: Int, model: String) -> [UInt8] {
        let values = inputs(signature, rows: 1)
        let specs = signature.inputs.filter { !$0.optional }
        let header = "{\"inputs\":[" + specs.map { spec in
            "{\"name\":\"\(spec.name)\",\"datatype\":\"FP32\",\"shape\":[\(([1] + spec.rowShape).map(String.init).joined(separator: ","))],"
                + "\"parameters\":{\"binary_data_size\":\(spec.rowElements * 4)}}"
        }.joined(separator: ",") + "],\"parameters\":{\"binary_data_output\":true}}"
        var body = Array(header.utf8)
        for spec in specs { for v in values[spec.name]! { withUnsafeBytes(of: v.bitPattern.littleEndian) { body.append(contentsOf: $0) } } }
        return ServeLoadClient.request(path: "/v2/models/\(model)/infer", port: port, body: body, headerLength: header.utf8.count)
    }

    struct Point {
        var p50: Double, p99: Double, throughput: Double, count: Int, errors: Int
    }

    /// `concurrency` closed-loop clients for `seconds` (after 0.2 s of warm-up).
    static func sweep(port: Int, request: [UInt8], concurrency: Int, seconds: Double) throws -> Point {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var latencies: [Double] = []
            var errors = 0
            var failure: Error?
        }
        let shared = Shared()
        let start = Stopwatch.now() + 200, end = start + seconds * 1000
        let group = DispatchGroup()
        for _ in 0..<concurrency {
            group.enter()
            Thread {
                defer { group.leave() }
                var mine: [Double] = [], errors = 0
                do {
                    let client = try ServeLoadClient(port: port)
                    while true {
                        let t0 = Stopwatch.now()
                        if t0 >= end { break }
                        let status = try client.send(request)
                        let t1 = Stopwatch.now()
                        if status != 200 { errors += 1 } else if t0 >= start { mine.append(t1 - t0) }
                    }
                } catch {
                    shared.lock.lock()
                    shared.failure = error
                    shared.lock.unlock()
                }
                shared.lock.lock()
                shared.latencies += mine
                shared.errors += errors
                shared.lock.unlock()
            }.start()
        }
        group.wait()
        if let failure = shared.failure { throw failure }
        let sorted = shared.latencies.sorted()
        guard !sorted.isEmpty else { return Point(p50: 0, p99: 0, throughput: 0, count: 0, errors: shared.errors) }
        func quantile(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] }
        return Point(p50: quantile(0.5), p99: quantile(0.99), throughput: Double(sorted.count) / seconds, count: sorted.count,
                     errors: shared.errors)
    }
}
