import Common
import MarketData

/// A token-bucket rate limiter: at most `capacity` requests in a burst, refilled at `ratePerSecond`.
/// `acquire()` suspends until a token is free (and throws `.cancelled` if the task is cancelled meanwhile).
///
///     let limiter = TokenBucket(capacity: 200, ratePerSecond: 200.0 / 60)   // Alpaca: 200 requests a minute
///     try await limiter.acquire()
public actor TokenBucket {
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()

    public init(capacity: Int, ratePerSecond: Double) {
        self.capacity = Double(max(1, capacity))
        self.ratePerSecond = ratePerSecond.isFinite ? min(1e9, max(1e-6, ratePerSecond)) : 1e9
        tokens = Double(max(1, capacity))
        last = clock.now
    }

    /// Tokens available now (for tests and logs).
    public var available: Double {
        refill()
        return tokens
    }

    private func refill() {
        let now = clock.now
        let elapsed = now - last
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(capacity, tokens + seconds * ratePerSecond)
        last = now
    }

    /// Takes one token, waiting for the refill when the bucket is empty.
    public func acquire() async throws(SourceError) {
        while true {
            if Task.isCancelled { throw .cancelled }
            refill()
            if tokens >= 1 {
                tokens -= 1
                return
            }
            let wait = (1 - tokens) / ratePerSecond
            do {
                try await Task.sleep(nanoseconds: RetryAfter.nanoseconds(wait) + 1_000)
            } catch {
                throw .cancelled
            }
        }
    }

    /// Empties the bucket until `seconds` from now (a vendor's 429 "reset" says no request will be accepted before).
    /// The pause is at most `RetryAfter.maxSeconds`; NaN or negative means no pause beyond emptying the bucket.
    public func pause(for seconds: Double) {
        refill()
        let pause = seconds.isNaN ? 0 : min(RetryAfter.maxSeconds, max(0, seconds))
        tokens = min(tokens, 0) - pause * ratePerSecond
    }
}
