import Dispatch
import Foundation

/// One model's request queue and the thread that runs it (Triton's dynamic batcher): requests from many
/// connections are queued, coalesced into one forward pass by `BatchingPolicy`, and each gets its own rows back.
///
/// Callers block in `submit` (on their HTTP connection's thread) until their rows are computed, the queue refuses
/// them (full or draining: 503), or their timeout passes (504; a request that had not started leaves the queue).
/// One forward pass at a time per batcher. `replace(model:)` swaps the model between passes: a pass already
/// running finishes on the model it started with, so a reload drops no request. `drain()` refuses new requests,
/// runs every queued one and returns when the last pass is done.
///
/// Rows of a batch are the requests' rows in arrival order; the outputs are split back by the same row counts.
/// A row's result does not depend on the other rows of its batch except through the order of float sums inside
/// the backend's matrix products (see the README: identical to an unbatched call up to float32 rounding).
///
///     let batcher = DynamicBatcher(model: model, policy: BatchingPolicy(maxBatch: 64, maxQueueDelayMicroseconds: 500))
///     let outputs = try batcher.submit(TensorBatch(rows: 1, inputs: ["x": window])).get()
public final class DynamicBatcher: @unchecked Sendable {
    /// What the batcher reports for metrics (called on the batcher's thread, outside its lock).
    public struct Observer: Sendable {
        /// rows, requests, seconds of the forward pass.
        public var batchRan: @Sendable (_ rows: Int, _ requests: Int, _ seconds: Double) -> Void = { _, _, _ in }
        /// seconds a request waited in the queue before its pass started.
        public var queued: @Sendable (_ seconds: Double) -> Void = { _ in }
        public init() {}
    }

    public let policy: BatchingPolicy
    let observer: Observer
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queuedRows = 0
    private var model: any ServedModel
    private var accepting = true
    private var stopped = false
    private var running = 0
    private var worker: Thread?

    final class Job {
        let batch: TensorBatch
        let arrival: UInt64
        let deadline: UInt64
        /// Run only on the model whose `checkpointSHA256` this is (nil: any).
        let requiredCheckpoint: String?
        var started = false
        var result: Result<[OutputTensor], InferenceError>?
        let done = DispatchSemaphore(value: 0)

        init(batch: TensorBatch, arrival: UInt64, deadline: UInt64, requiredCheckpoint: String?) {
            self.batch = batch
            self.arrival = arrival
            self.deadline = deadline
            self.requiredCheckpoint = requiredCheckpoint
        }
    }

    public init(model: any ServedModel, policy: BatchingPolicy, observer: Observer = Observer()) {
        self.model = model
        self.policy = policy
        self.observer = observer
        let thread = Thread { self.loop() }   // holds the batcher until shutdown() ends the loop
        thread.name = "aitrader-batcher-\(model.name)"
        worker = thread
        thread.start()
    }

    /// The model the next pass runs.
    public var currentModel: any ServedModel {
        condition.lock()
        defer { condition.unlock() }
        return model
    }

    /// Requests waiting (not yet in a pass).
    public var queueDepth: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    public func replace(model: any ServedModel) {
        condition.lock()
        self.model = model
        condition.unlock()
    }

    /// Queues `batch` and waits for its outputs (first dimension `batch.rows`). With `requiringCheckpoint`, the rows
    /// run only on the model with that `checkpointSHA256`: one reloaded from another checkpoint meanwhile refuses
    /// them (409) instead of answering for weights the client did not mean.
    public func submit(_ batch: TensorBatch, timeoutMicroseconds: Int? = nil,
                       requiringCheckpoint: String? = nil) -> Result<[OutputTensor], InferenceError> {
        let now = DispatchTime.now().uptimeNanoseconds
        let timeout = min(policy.requestTimeoutMicroseconds, timeoutMicroseconds.map { max(1, $0) } ?? .max)
        let job = Job(batch: batch, arrival: now, deadline: now &+ UInt64(timeout) * 1_000, requiredCheckpoint: requiringCheckpoint)
        condition.lock()
        guard accepting else {
            condition.unlock()
            return .failure(.unavailable("the server is shutting down"))
        }
        guard queue.count < policy.maxQueuedRequests else {
            condition.unlock()
            return .failure(.unavailable("the \(model.name) queue is full (\(policy.maxQueuedRequests) requests waiting); retry shortly"))
        }
        queue.append(job)
        queuedRows += batch.rows
        condition.broadcast()
        condition.unlock()

        if job.done.wait(timeout: DispatchTime(uptimeNanoseconds: job.deadline)) == .timedOut {
            condition.lock()
            if let result = job.result {   // finished just now
                condition.unlock()
                return result
            }
            if !job.started, let i = queue.firstIndex(where: { $0 === job }) {
                queue.remove(at: i)
                queuedRows -= job.batch.rows
            }
            job.result = .failure(Self.timeoutError(timeout))
            condition.unlock()
            return job.result!
        }
        condition.lock()
        defer { condition.unlock() }
        return job.result ?? .failure(.failed("the request finished without a result"))
    }

    /// Stops taking requests, runs the queued ones, and returns when no pass is running.
    public func drain() {
        condition.lock()
        accepting = false
        condition.broadcast()
        while !queue.isEmpty || running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Drains, then ends the worker thread.
    public func shutdown() {
        drain()
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// 409 for a request made for checkpoint `required` when `model` runs another.
    public static func checkpointConflict(_ model: any ServedModel, required: String) -> InferenceError {
        .conflict("\(model.name) runs the checkpoint with sha256 \(model.checkpointSHA256.prefix(64)), not the one this request "
            + "was made for (\(required.prefix(64))): the server loaded another checkpoint; read the model metadata again")
    }

    static func timeoutError(_ micros: Int) -> InferenceError {
        .timeout("the request was not answered within its timeout of \(Double(micros) / 1000) ms")
    }

    // MARK: the worker

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                condition.unlock()
                return
            }
            if policy.enabled && accepting {
                let batchDeadline = queue[0].arrival &+ UInt64(policy.maxQueueDelayMicroseconds) * 1_000
                while accepting, !queue.isEmpty, queuedRows < policy.startRows {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if now >= batchDeadline { break }
                    _ = condition.wait(until: Date(timeIntervalSinceNow: Double(batchDeadline - now) / 1e9))
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            var expired: [Job] = []
            queue.removeAll { job in
                guard job.deadline <= now else { return false }
                queuedRows -= job.batch.rows
                expired.append(job)
                return true
            }
            var selected: [Job] = []
            var rows = 0
            while let next = queue.first, selected.isEmpty || (policy.enabled && rows + next.batch.rows <= policy.maxBatch) {
                queue.removeFirst()
                queuedRows -= next.batch.rows
                next.started = true
                selected.append(next)
                rows += next.batch.rows
            }
            let model = self.model
            running += 1
            for job in expired where job.result == nil { job.result = .failure(Self.timeoutError(Int((job.deadline - job.arrival) / 1000))) }
            condition.unlock()
            for job in expired { job.done.signal() }
            if !selected.isEmpty { run(selected, rows: rows, on: model) }
            condition.lock()
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    private func run(_ jobs: [Job], rows: Int, on model: any ServedModel) {
        let start = DispatchTime.now().uptimeNanoseconds
        for job in jobs { observer.queued(Double(start - job.arrival) / 1e9) }
        // Requests validated against a model since replaced by one of another shape are refused, not mixed in.
        // So are requests made for another checkpoint than the one this pass runs.
        var fitting: [Job] = [], refused: [Job] = []
        var results: [(Job, Result<[OutputTensor], InferenceError>)] = []
        for job in jobs {
            if let required = job.requiredCheckpoint, required != model.checkpointSHA256 {
                results.append((job, .failure(Self.checkpointConflict(model, required: required))))
                continue
            }
            let fits = model.signature.inputs.allSatisfy { spec in job.batch.inputs[spec.name]?.count == job.batch.rows * spec.rowElements }
            if fits { fitting.append(job) } else { refused.append(job) }
        }
        results += refused.map {
            ($0, .failure(.unavailable("\(model.name) was reloaded with other input shapes; read its metadata again and resend")))
        }
        if !fitting.isEmpty {
            let total = fitting.reduce(0) { $0 + $1.batch.rows }
            var inputs: [String: [Float]] = [:]
            for spec in model.signature.inputs {
                var values: [Float] = []
                values.reserveCapacity(total * spec.rowElements)
                for job in fitting { values += job.batch.inputs[spec.name]! }
                inputs[spec.name] = values
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let outcome = Result { () throws(InferenceError) in try model.run(TensorBatch(rows: total, inputs: inputs)) }
            observer.batchRan(total, fitting.count, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            switch outcome {
            case .failure(let error):
                results += fitting.map { ($0, .failure(error)) }
            case .success(let outputs):
                var offset = 0
                for job in fitting {
                    let n = job.batch.rows
                    let mine = outputs.map { tensor -> OutputTensor in
                        let perRow = total > 0 ? tensor.values.count / total : 0
                        return OutputTensor(name: tensor.name, shape: [n] + tensor.shape.dropFirst(),
                                            values: tensor.values.slice((offset * perRow)..<((offset + n) * perRow)))
                    }
                    results.append((job, .success(mine)))
                    offset += n
                }
            }
        }
        condition.lock()
        for (job, result) in results where job.result == nil { job.result = result }
        condition.unlock()
        for (job, _) in results { job.done.signal() }
    }
}
