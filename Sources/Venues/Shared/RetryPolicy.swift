import Common
import MarketData

/// Retries an operation on transient errors only, with exponential backoff and full jitter, honouring a vendor's
/// "retry after" and task cancellation. Non-transient errors (bad credentials, bad requests) fail at once.
///
///     let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.5, maxDelay: 30)
///     let page = try await policy.run("alpaca bars") { () async throws(SourceError) in try await fetchPage() }
///
/// Delay before attempt k+1 (k = 1, 2, ...): a uniform random value in
/// `[(1 - jitter) * d, d]` with `d = min(maxDelay, baseDelay * 2^(k-1))`, or the vendor's retry-after when larger.
/// A vendor asking for more than `maxRetryAfter` seconds is not waited for: the rate-limit error is thrown at once.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    /// Seconds.
    public var baseDelay: Double
    public var maxDelay: Double
    /// 0 = no jitter, 1 = full jitter.
    public var jitter: Double
    /// Seconds: the longest vendor "retry after" honoured; a longer one ends the retries.
    public var maxRetryAfter: Double

    /// Every field is clamped to a sane range (NaN and infinities included): configuration input never traps.
    public init(maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, jitter: Double = 1,
                maxRetryAfter: Double = 300) {
        func seconds(_ v: Double) -> Double { v.isNaN ? 0 : min(RetryAfter.maxSeconds, max(0, v)) }
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = seconds(baseDelay)
        self.maxDelay = seconds(maxDelay)
        self.jitter = jitter.isNaN ? 1 : min(1, max(0, jitter))
        self.maxRetryAfter = seconds(maxRetryAfter)
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The (randomised) delay in seconds after failed attempt `attempt` (1-based).
    public func delay(afterAttempt attempt: Int, error: SourceError,
                      using rng: inout some RandomNumberGenerator) -> Double {
        let exponential = min(maxDelay, baseDelay * Double(1 << min(max(attempt, 1) - 1, 30)))
        let low = (1 - jitter) * exponential
        var d = low < exponential ? Double.random(in: low...exponential, using: &rng) : exponential
        if case .rateLimited(let after?) = error, !after.isNaN { d = max(d, min(after, maxRetryAfter)) }
        return d
    }

    /// Whether `error` asks for a longer wait than this policy honours.
    public func waitsTooLong(_ error: SourceError) -> Bool {
        if case .rateLimited(let after?) = error { return !(after <= maxRetryAfter) }
        return false
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
                guard error.isTransient, attempt < maxAttempts, !waitsTooLong(error) else { throw error }
                let d = delay(afterAttempt: attempt, error: error, using: &rng)
                Log.warning("retrying", ["what": what, "attempt": "\(attempt)", "error": error.description,
                                         "delay_s": String(format: "%.2f", d)])
                do {
                    try await Task.sleep(nanoseconds: RetryAfter.nanoseconds(d))
                } catch {
                    throw .cancelled
                }
                attempt += 1
            }
        }
    }
}
