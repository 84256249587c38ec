import Common
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import MarketData
@testable import Venues
import TestSupport

/// AlpacaSource against a local fake server that speaks Alpaca's documented JSON (Fixtures/alpaca).
@Suite(.enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason))) struct AlpacaSourceTests {
    static let script = Samples.root.appendingPathComponent("Tests/VenuesTests/Fixtures/alpaca/fake_alpaca_server.py").path

    func withServer(_ faults: String = "", _ body: (AlpacaConfiguration, PythonServer) async throws -> Void) async throws {
        let server = try #require(try PythonServer.start(script: Self.script,
                                                         arguments: ["--script", faults, "--lifetime", "600"]),
                                  "python3 is not on PATH")
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let config = AlpacaConfiguration(dataURL: base, tradingURL: base, keyID: "test-key", secretKey: "test-secret",
                                         feed: "iex", pageLimit: 50, requestsPerMinute: 6000,
                                         retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 2), timeout: 10)
        try await body(config, server)
    }

    func requests(_ server: PythonServer) async throws -> [[String: Any]] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/_requests")!)
        return try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    let start = UTCTime.milliseconds(year: 2024, month: 1, day: 1)
    let end = UTCTime.milliseconds(year: 2024, month: 2, day: 1)

    @Test func followsPagesAndNormalises() async throws {
        try await withServer { config, server in
            let bars = try await AlpacaSource(configuration: config).fetchOHLCV(symbol: "AAPL", timeframe: .h1,
                                                                             start: start, end: end)
            // 23 weekdays in January 2024 x 7 hourly bars (14:00-20:00 UTC) = 161 rows over 4 pages of 50.
            #expect(bars.count == 161)
            #expect(bars.timestamps[0] == UTCTime.milliseconds(year: 2024, month: 1, day: 1, hour: 14))
            #expect(zip(bars.timestamps, bars.timestamps.dropFirst()).allSatisfy { $0 < $1 })
            #expect(bars.high[0] == bars.open[0] + 1.5)
            let log = try await requests(server)
            #expect(log.count == 4)
            let q = log[0]["query"] as! [String: String]
            #expect(q["timeframe"] == "1Hour" && q["feed"] == "iex" && q["adjustment"] == "raw" && q["limit"] == "50")
            #expect(q["start"] == "2024-01-01T00:00:00Z" && q["sort"] == "asc")
            #expect((log[1]["query"] as! [String: String])["page_token"] != nil)
            #expect(log.allSatisfy { $0["has_key"] as? Bool == true })
        }
    }

    @Test func retriesTransientErrorsAndHonoursRateLimitReset() async throws {
        try await withServer("429,500") { config, server in
            let clock = ContinuousClock()
            let began = clock.now
            let bars = try await AlpacaSource(configuration: config).fetchOHLCV(symbol: "AAPL", timeframe: .d1,
                                                                             start: start, end: end)
            #expect(bars.count == 23)
            #expect(bars.timestamps[0] == UTCTime.milliseconds(year: 2024, month: 1, day: 1, hour: 5))
            // The 429 said "reset in more than a second": the retry waited for it instead of hammering.
            #expect(clock.now - began > .milliseconds(900))
            #expect(try await requests(server).count == 3)
        }
    }

    @Test func doesNotRetryPermanentErrors() async throws {
        try await withServer { config, server in
            var bad = config
            bad.secretKey = "wrong"
            await #expect(throws: SourceError.self) {
                _ = try await AlpacaSource(configuration: bad).fetchOHLCV(symbol: "AAPL", timeframe: .h1, start: start, end: end)
            }
            let sent = try await requests(server).count
            #expect(sent == 1)   // 401 is not retried
            var badAdjustment = config
            badAdjustment.adjustment = "sideways"
            do {
                _ = try await AlpacaSource(configuration: badAdjustment).fetchOHLCV(symbol: "AAPL", timeframe: .h1,
                                                                                   start: start, end: end)
                Issue.record("expected an error")
            } catch {
                #expect("\(error)".contains("adjustment 'sideways'"))
            }
            #expect(!bad.description.contains("wrong") && !bad.description.contains("test-key"))
        }
    }

    @Test func cryptoLatestAndSymbols() async throws {
        try await withServer { config, server in
            var source = AlpacaSource(configuration: config)
            let crypto = try await source.fetchOHLCV(symbol: "BTC/USD", timeframe: .h4, start: start,
                                                     end: start + 7 * UTCTime.msPerDay)
            #expect(crypto.count == 42)
            let log = try await requests(server)
            #expect(log[0]["path"] as? String == "/v1beta3/crypto/us/bars")
            #expect((log[0]["query"] as! [String: String])["feed"] == nil)
            let fixedNow = UTCTime.milliseconds(year: 2024, month: 1, day: 10, hour: 12)
            source.now = { fixedNow }
            let last = try await source.latest(symbol: "BTC/USD", timeframe: .h1, count: 5)
            #expect(last.timestamps.array == (0..<5).map { fixedNow - Int64(4 - $0) * UTCTime.msPerHour })
            #expect(try await source.supportedSymbols() == ["AAPL", "BTC/USD", "MSFT"])
        }
    }
}

@Suite struct RateLimitAndRetryTests {
    @Test func tokenBucketSpacesRequests() async throws {
        let bucket = TokenBucket(capacity: 2, ratePerSecond: 20)
        let clock = ContinuousClock()
        let began = clock.now
        for _ in 0..<6 { try await bucket.acquire() }
        // 2 immediately, then 4 more at 20/s: about 200 ms.
        #expect(clock.now - began >= .milliseconds(150))
    }

    @Test func tokenBucketStartsFullAndSpends() async throws {
        let bucket = TokenBucket(capacity: 3, ratePerSecond: 1e-6)     // refills about never within the test
        #expect(await bucket.available == 3)
        try await bucket.acquire()
        try await bucket.acquire()
        let left = await bucket.available
        #expect(left >= 1 && left < 1.001)
    }

    @Test func backoffGrowsAndRespectsRetryAfter() {
        let seed = SplitMix64.testSeed()
        var rng = SplitMix64(seed: seed)
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 1, maxDelay: 8, jitter: 0)
        let delays = (1...5).map { policy.delay(afterAttempt: $0, error: .transient("x"), using: &rng) }
        #expect(delays == [1, 2, 4, 8, 8])
        #expect(policy.delay(afterAttempt: 1, error: .rateLimited(retryAfter: 3), using: &rng) == 3)
        let jittered = RetryPolicy(baseDelay: 1, maxDelay: 8, jitter: 1)
        for _ in 0..<50 {
            let delay = jittered.delay(afterAttempt: 3, error: .transient("x"), using: &rng)
            #expect((0...4).contains(delay), "jittered delay \(delay) (AITRADER_TEST_SEED=\(seed))")
        }
    }

    @Test func retriesOnlyTransientErrorsAndStopsOnCancel() async throws {
        let counter = Counter()
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0.001, maxDelay: 0.01)
        await #expect(throws: SourceError.invalidRequest("no")) {
            try await policy.run("t") { () async throws(SourceError) -> Int in counter.add(); throw .invalidRequest("no") }
        }
        #expect(counter.value == 1)
        let value = try await policy.run("t") { () async throws(SourceError) -> Int in
            counter.add()
            if counter.value < 4 { throw .transient("flaky") }
            return 7
        }
        #expect(value == 7)
        let slow = RetryPolicy(maxAttempts: 10, baseDelay: 5, maxDelay: 5)
        let task = Task { () async throws(SourceError) -> Int in
            try await slow.run("t") { () async throws(SourceError) -> Int in throw .transient("down") }
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        await #expect(throws: SourceError.cancelled) { try await task.value }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
