import Common

/// Retries an operation on transient errors only, with exponential backoff and full jitter, honouring a vendor's
/// "retry after" and task cancellation. Non-transient errors (bad credentials, bad requests) fail at once.
///
///     let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 30)
///     let page = try await policy.run("alpaca bars") { () async throws(SourceError) in try await fetchPage() }
///
/// Delay before attempt k+1 (k = 1, 2, ...): a uniform random value in
/// `[(1 - jitter) * d, d]` with `d = min(maxDelay, baseDelay * 2^(k-1))`, or the vendor's retry-after when larger.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    /// Seconds.
    public var baseDelay: Double
    public var maxDelay: Double
    /// 0 = no jitter, 1 = full jitter.
    public var jitter: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, jitter: Double = 1) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The (randomised) delay in seconds after failed attempt `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, error: SourceError,
                      using rng: inout some RandomNumberGenerator) -> Double {
        let exponential = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 30)))
        let low = (1 - jitter) * exponential
        var d = low < exponential ? Double.random(in: low...exponential, using: &rng) : exponential
        if case .rateLimited(let after?) = error { d = max(d, min(after, max(maxDelay, after))) }
        return d
    }

    public func run<T: Sendable>(_ what: String, _ operation: () async throws(SourceError) -> T)
        async throws(SourceError) -> T
    {
        var rng = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            if Task.isCancelled { throw .cancelled }
            do {
                return try await operation()
            } catch {
                guard error.isTransient, attempt < maxAttempts else { throw error }
                let d = delay(afterAttempt: attempt, error: error, using: &rng)
                Log.warning("retrying", ["what": what, "attempt": "\(attempt)", "error": error.description,
                                         "delay_s": String(format: "%.2f", d)])
                do {
                    try await Task.sleep(nanoseconds: UInt64(d * 1e9))
                } catch {
                    throw .cancelled
                }
                attempt += 1
            }
        }
    }
}
