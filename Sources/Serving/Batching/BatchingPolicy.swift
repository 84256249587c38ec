/// How one model's requests are coalesced, as Triton's `dynamic_batching` block: the most rows per forward pass
/// (and per request), the preferred batch sizes, the longest a request waits for others, and the queue bound.
///
/// A batch starts when the queued rows reach `maxBatch` or the largest preferred size, or when the oldest queued
/// request has waited `maxQueueDelayMicroseconds`; it then takes the queued requests in arrival order while their
/// rows fit in `maxBatch`. `enabled == false` runs every request alone, as it arrives (Triton without
/// `dynamic_batching`).
///
///     BatchingPolicy(maxBatch: 64, preferredBatchSizes: [16, 32], maxQueueDelayMicroseconds: 500)
public struct BatchingPolicy: Sendable, Equatable {
    public var enabled: Bool
    public var maxBatch: Int
    public var preferredBatchSizes: [Int]
    public var maxQueueDelayMicroseconds: Int
    /// Requests waiting at most; one more is refused with 503 and Retry-After.
    public var maxQueuedRequests: Int
    /// The longest a request may take from arrival to answer (its own `timeout` parameter may shorten it); past it
    /// the request is answered 504 (dropped from the queue if it had not started).
    public var requestTimeoutMicroseconds: Int

    public init(enabled: Bool = true, maxBatch: Int = 64, preferredBatchSizes: [Int] = [], maxQueueDelayMicroseconds: Int = 500,
                maxQueuedRequests: Int = 256, requestTimeoutMicroseconds: Int = 10_000_000) {
        self.enabled = enabled
        self.maxBatch = max(1, maxBatch)
        self.preferredBatchSizes = preferredBatchSizes.filter { $0 >= 1 && $0 <= max(1, maxBatch) }.sorted()
        self.maxQueueDelayMicroseconds = max(0, maxQueueDelayMicroseconds)
        self.maxQueuedRequests = max(1, maxQueuedRequests)
        self.requestTimeoutMicroseconds = max(1, requestTimeoutMicroseconds)
    }

    /// Rows at which a batch starts without waiting longer.
    var startRows: Int { min(maxBatch, preferredBatchSizes.last ?? maxBatch) }
}
