import Common
import Dispatch
import Engine
import Foundation
import Models
import Serving

/// `aitrader serve --model-repository DIR`: the inference server (Open Inference Protocol / KServe v2 over HTTP, as
/// Triton serves it) on the checkpoints `aitrader train --model all` wrote, with dynamic batching and `/metrics`.
enum ServeCommand: AITraderCommand {
    static let path = ["serve"]
    static let summary = "serve the models over HTTP (Open Inference Protocol / KServe v2, Triton-compatible), dynamically batched"
    static let options: [Option] = [
        Option("model-repository", .text, "DIR", "checkpoints as aitrader train --model all writes them (DIR/short_term/best.safetensors, ...)",
               required: true),
        Option("host", .text, "ADDRESS", "address to bind (0.0.0.0 or :: to accept remote clients)", default: "127.0.0.1"),
        Option("port", .integer(0 ... 65_535), "N", "TCP port (0: any free port, printed at start)", default: "8000"),
        Option("max-batch", .integer(1 ... 4096), "N", "most rows per forward pass and per request", default: "64"),
        Option("preferred-batch", .list, "N,N,...", "preferred batch sizes: a batch starts as soon as the largest is queued"),
        Option("max-queue-delay-us", .integer(0 ... 10_000_000), "US", "longest a request waits for others to batch with",
               default: "500"),
        Option(flag: "no-batching", "run every request alone as it arrives (for comparisons)"),
        Option("max-queue", .integer(1 ... 1_000_000), "N", "requests waiting per model before 503 + Retry-After", default: "256"),
        Option("request-timeout-ms", .integer(1 ... 3_600_000), "MS", "longest a request may take before 504 (a request's own "
               + "'timeout' parameter, in µs, may shorten it)", default: "10000"),
        Option("max-request-bytes", .integer(1024 ... Int(Int32.max)), "BYTES", "largest request body (413 above)", default: "67108864"),
        Option("auth-token-file", .text, "PATH", "require 'Authorization: Bearer <token>' with the token in this file "
               + "(or in $AITRADER_SERVE_TOKEN); health probes stay open"),
        Option("ensemble-config", .text, "PATH", "ensemble configuration (default configs/ensemble.yaml when present)"),
        Option("poll-s", .number(.nonNegative), "SECONDS", "how often to look for changed checkpoints (0: only on load requests)",
               default: "2"),
    ]
    static let discussion = """
        Models: short_term, medium_term, long_term (input x (rows, L, F): the scaled feature windows in the
        checkpoint's feature order, as aitrader model forward takes them; long_term also close (rows, L)) and
        ensemble (short_term_x, medium_term_x, long_term_x, long_term_close; optional adx and volatility_percentile).
        Outputs: alpha, beta, p_up (calibrated), p_up_raw, confidence, direction; the ensemble's per-model parts as
        (rows, 3) in the order short_term, medium_term, long_term. GET /v2/models/NAME lists the exact shapes and
        the checkpoint's identity (parameters checkpoint_sha256, feature_names); a request with the parameter
        checkpoint_sha256 runs only on that checkpoint (else 409) — what `aitrader robot run --inference-url` sends.
        Endpoints: /v2/health/live|ready, /v2, /v2/models/NAME[/versions/1][/ready|/config|/infer],
        /v2/repository/index, /v2/repository/models/NAME/load|unload, /metrics (Prometheus).
        Requests from many clients are coalesced per model (up to --max-batch rows, waiting at most
        --max-queue-delay-us); a changed checkpoint is reloaded between two batches, dropping no request.
        Ctrl-C or SIGTERM: stop accepting, answer every queued request, exit 0.
        """

    static func run(_ values: OptionValues) async throws {
        var preferred: [Int] = []
        for item in values.list("preferred-batch") ?? [] {
            guard let n = Int(item), n >= 1 else { throw UsageError("--preferred-batch expects whole numbers >= 1, got '\(item)'") }
            preferred.append(n)
        }
        let maxBatch = values.int("max-batch") ?? 64
        if let over = preferred.first(where: { $0 > maxBatch }) {
            throw UsageError("--preferred-batch \(over) is larger than --max-batch \(maxBatch)")
        }
        var token = ProcessInfo.processInfo.environment["AITRADER_SERVE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let file = values.string("auth-token-file") {
            let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw UsageError("--auth-token-file \(file) is empty") }
            token = text
        }
        let configPath = values.configPath("ensemble-config", default: "configs/ensemble.yaml")
        let ensembleConfig = try configPath.map { try EnsembleConfig.load(path: $0) } ?? EnsembleConfig()
        let backend = try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads"))
        let policy = BatchingPolicy(enabled: !values.flag("no-batching"), maxBatch: maxBatch, preferredBatchSizes: preferred,
                                    maxQueueDelayMicroseconds: values.int("max-queue-delay-us") ?? 500,
                                    maxQueuedRequests: values.int("max-queue") ?? 256,
                                    requestTimeoutMicroseconds: (values.int("request-timeout-ms") ?? 10_000) * 1000)
        let host = values.string("host") ?? "127.0.0.1"
        let configuration = ServiceConfiguration(host: host, port: values.int("port") ?? 8000,
                                                 maxBodyBytes: values.int("max-request-bytes") ?? 64 << 20, authToken: token,
                                                 policy: policy, ensembleConfig: ensembleConfig, pollSeconds: values.double("poll-s") ?? 2)
        let directory = values.string("model-repository") ?? ""
        let service = InferenceService(repository: directory, backend: backend, configuration: configuration)

        let stop = SignalWaiter()
        let failed = try service.start()
        for (name, reason) in failed.sorted(by: { $0.key < $1.key }) { printError("aitrader serve: \(name) not loaded: \(reason)") }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        print("aitrader serve: listening on http://\(shownHost):\(service.port) (device \(backend.name); models "
              + service.repository.readyModels.joined(separator: ", ") + "; batching "
              + (policy.enabled ? "max \(policy.maxBatch) rows, \(policy.maxQueueDelayMicroseconds) µs delay" : "off")
              + (token == nil ? "" : "; bearer token required") + ")")
        fflush(nil)
        let signal = await stop.wait()
        print("aitrader serve: \(signal == SIGINT ? "interrupted" : "terminated"); answering queued requests, then stopping")
        fflush(nil)
        service.shutdown()
        print("aitrader serve: stopped")
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Waits for SIGINT or SIGTERM (the default handlers are replaced while the server runs).
final class SignalWaiter: @unchecked Sendable {
    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var received: Int32?
    private var continuation: CheckedContinuation<Int32, Never>?

    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in deliver(sig) }
            source.resume()
            sources.append(source)
        }
    }

    private func deliver(_ sig: Int32) {
        lock.lock()
        if received != nil {   // a second signal: stop now
            lock.unlock()
            _exit(128 + sig)
        }
        received = sig
        let waiting = continuation
        continuation = nil
        lock.unlock()
        waiting?.resume(returning: sig)
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { c in
            lock.lock()
            if let received {
                lock.unlock()
                c.resume(returning: received)
                return
            }
            continuation = c
            lock.unlock()
        }
    }
}
