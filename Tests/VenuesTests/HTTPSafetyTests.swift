import Common
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPService
import Testing
import MarketData
@testable import Venues
import TestSupport

/// What a data vendor's server controls — redirects, rate-limit headers, error text — against real local servers
/// (Fixtures/alpaca, bound to 127.0.0.1): credentials never leave their origin, hostile header values end in a
/// prompt typed error or a short wait (never a trap), and error text reaches the user without escape codes.
@Suite(.enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason))) struct HTTPSafetyTests {
    static let script = AlpacaSourceTests.script
    static let auth = ["APCA-API-KEY-ID": "test-key", "APCA-API-SECRET-KEY": "test-secret"]

    func server(_ faults: String = "") throws -> PythonServer {
        try #require(try PythonServer.start(script: Self.script, arguments: ["--script", faults, "--lifetime", "600"]),
                     "python3 is not on PATH")
    }

    func requests(_ server: PythonServer) async throws -> [[String: Any]] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.port)/_requests")!)
        return try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
    }

    func config(_ server: PythonServer) -> AlpacaConfiguration {
        let base = "http://127.0.0.1:\(server.port)"
        return AlpacaConfiguration(dataURL: base, tradingURL: base, keyID: "test-key", secretKey: "test-secret",
                                   feed: "iex", pageLimit: 50, requestsPerMinute: 6000,
                                   retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.2), timeout: 10)
    }

    @Test func redirectToAnotherOriginDropsCredentials() async throws {
        let a = try server(), b = try server()
        defer { a.stop(); b.stop() }
        let client = HTTPClient(timeout: 10)
        // A (port 1) redirects to B (port 2): same host, another origin. B must not see either key; it answers 401.
        await #expect(throws: SourceError.self) {
            _ = try await client.get("http://127.0.0.1:\(a.port)/_redirect",
                                     query: [("to", "http://127.0.0.1:\(b.port)/v2/assets")], headers: Self.auth)
        }
        let atA = try await requests(a), atB = try await requests(b)
        #expect(atA.count == 1 && atA[0]["has_key"] as? Bool == true)
        #expect(atB.count == 1, "the redirect was not followed: \(atB)")
        #expect(atB.first?["path"] as? String == "/v2/assets")
        #expect(atB.first?["has_key"] as? Bool == false, "API key id sent to another origin")
        #expect(atB.first?["has_secret"] as? Bool == false, "API secret sent to another origin")
    }

    @Test func sameOriginRedirectKeepsCredentials() async throws {
        let a = try server()
        defer { a.stop() }
        let response = try await HTTPClient(timeout: 10).get(
            "http://127.0.0.1:\(a.port)/_redirect", query: [("to", "http://127.0.0.1:\(a.port)/v2/assets")], headers: Self.auth)
        #expect(response.status == 200)
        let log = try await requests(a)
        #expect(log.count == 2 && log.allSatisfy { $0["has_key"] as? Bool == true && $0["has_secret"] as? Bool == true })
    }

    @Test func redirectOriginRules() {
        let next = { (url: String) -> URLRequest in
            var r = URLRequest(url: URL(string: url)!)
            for (k, v) in Self.auth { r.setValue(v, forHTTPHeaderField: k) }
            r.setValue("Bearer x", forHTTPHeaderField: "Authorization")
            r.setValue("application/json", forHTTPHeaderField: "Accept")
            return r
        }
        let from = URL(string: "https://data.alpaca.markets/v2/stocks/bars")
        let keys = Array(Self.auth.keys)
        for other in ["http://data.alpaca.markets/x", "https://data.alpaca.markets:8443/x", "https://evil.example/x",
                      "https://data.alpaca.markets.evil.example/x"] {
            let r = HTTPTransfer.redirected(next(other), from: from, callerHeaders: keys)
            #expect(r.value(forHTTPHeaderField: "APCA-API-KEY-ID") == nil, "\(other)")
            #expect(r.value(forHTTPHeaderField: "APCA-API-SECRET-KEY") == nil, "\(other)")
            #expect(r.value(forHTTPHeaderField: "Authorization") == nil, "\(other)")
            #expect(r.value(forHTTPHeaderField: "Accept") == "application/json", "\(other)")
        }
        for same in ["https://data.alpaca.markets/v2/other", "https://DATA.alpaca.markets:443/x"] {
            let r = HTTPTransfer.redirected(next(same), from: from, callerHeaders: keys)
            #expect(r.value(forHTTPHeaderField: "APCA-API-SECRET-KEY") == "test-secret", "\(same)")
        }
    }

    /// Retry-After and X-Ratelimit-Reset values a vendor (or a man in the middle) could send. Each fetch ends
    /// promptly: with the data after a short honoured wait, or with `.rateLimited` when the wait is absurd.
    @Test func hostileRateLimitHeaders() async throws {
        let cases: [(String, Bool)] = [
            ("retry-after=1e20", false), ("retry-after=inf", false), ("retry-after=-inf", true), ("retry-after=nan", true),
            ("retry-after=-5", true), ("retry-after=99999999999999999999999999", false), ("retry-after=garbage", true),
            ("retry-after=0.2", true), ("retry-after=Fri%2C 31 Dec 9999 23:59:59 GMT", false),
            ("retry-after=Thu%2C 01 Jan 1970 00:00:00 GMT", true), ("retry-after=Sun Nov  6 08:49:37 1994", true),
            ("reset=1e300", false), ("reset=inf", true), ("reset=nan", true), ("reset=-1e300", true),
        ]
        let start = UTCTime.milliseconds(year: 2024, month: 1, day: 1), end = UTCTime.milliseconds(year: 2024, month: 2, day: 1)
        for (fault, succeeds) in cases {
            let s = try server(fault)
            defer { s.stop() }
            let clock = ContinuousClock(), began = clock.now
            do {
                let bars = try await AlpacaSource(configuration: config(s)).fetchOHLCV(symbol: "AAPL", timeframe: .d1,
                                                                                      start: start, end: end)
                #expect(succeeds && bars.count == 23, "\(fault): got \(bars.count) bars")
            } catch let error as SourceError {
                guard case .rateLimited = error else { Issue.record("\(fault): \(error)"); continue }
                #expect(!succeeds, "\(fault): gave up with \(error)")
            }
            // A hang guard, not a speed check: each wait is capped by the policy (maxDelay 0.2 s, maxRetryAfter),
            // so only a wait that never ends fails here (an honoured 1e20 s would); 300 s leaves a 2-core host running
            // the whole suite in parallel room to schedule the server and the client (134 s measured under load).
            #expect(clock.now - began < .seconds(300), "\(fault) took \(clock.now - began)")
        }
    }

    @Test func vendorErrorTextIsSanitised() async throws {
        let s = try server("evil")
        defer { s.stop() }
        do {
            _ = try await AlpacaSource(configuration: config(s)).fetchOHLCV(
                symbol: "AAPL", timeframe: .d1, start: UTCTime.milliseconds(year: 2024, month: 1, day: 1),
                end: UTCTime.milliseconds(year: 2024, month: 2, day: 1))
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("bad key"))
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(text.debugDescription)")
            #expect(!text.contains("pwned") && text.count < 700, "\(text.count) characters")
        }
    }
}

@Suite struct RetryAfterTests {
    @Test func parsesSecondsAndDatesIntoABoundedRange() {
        let now = 1_700_000_000.0
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds(" 1.5 ", now: now) == 1.5)
        #expect(RetryAfter.seconds("-5", now: now) == 0)
        #expect(RetryAfter.seconds("1e20", now: now) == RetryAfter.maxSeconds)
        #expect(RetryAfter.seconds("inf", now: now) == RetryAfter.maxSeconds)
        #expect(RetryAfter.seconds("nan", now: now) == nil)
        #expect(RetryAfter.seconds("soon", now: now) == nil)
        // RFC 9110's three date forms, 60 s after `now` (2023-11-14T22:13:20Z).
        for date in ["Tue, 14 Nov 2023 22:14:20 GMT", "Tuesday, 14-Nov-23 22:14:20 GMT", "Tue Nov 14 22:14:20 2023"] {
            #expect(RetryAfter.seconds(date, now: now) == 60, "\(date)")
        }
        #expect(RetryAfter.seconds("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == RetryAfter.maxSeconds)
        #expect(RetryAfter.seconds("Tue, 31 Feb 2023 22:14:20 GMT", now: now) == nil)
        #expect(RetryAfter.seconds("Tue, 14 Nov 2023 99:14:20 GMT", now: now) == nil)
        #expect(RetryAfter.resetSeconds("1700000030", now: now) == 30)
        #expect(RetryAfter.resetSeconds("1e300", now: now) == RetryAfter.maxSeconds)
        #expect(RetryAfter.resetSeconds("inf", now: now) == nil)
        for v in [Double.infinity, -.infinity, .nan, 1e300, -1, 0] {
            #expect(RetryAfter.nanoseconds(v) <= UInt64(RetryAfter.maxSeconds * 1e9))
        }
    }

    @Test func policyAndBucketNeverTrapOnHugeWaits() async throws {
        var rng = SplitMix64(seed: 1)
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .infinity, maxDelay: .nan, jitter: .nan, maxRetryAfter: 60)
        for after in [Double.infinity, 1e20, .nan, -1, 30] {
            let d = policy.delay(afterAttempt: Int.max, error: .rateLimited(retryAfter: after), using: &rng)
            #expect(d.isFinite && d >= 0 && d <= 60, "retry after \(after): delay \(d)")
        }
        #expect(policy.waitsTooLong(.rateLimited(retryAfter: 1e20)) && policy.waitsTooLong(.rateLimited(retryAfter: .nan)))
        #expect(!policy.waitsTooLong(.rateLimited(retryAfter: 30)) && !policy.waitsTooLong(.rateLimited(retryAfter: nil)))
        // An absurd rate-limit wait on the bucket: the next acquire sleeps (bounded) and is cancellable.
        let bucket = TokenBucket(capacity: 1, ratePerSecond: .infinity)
        await bucket.pause(for: .infinity)
        await bucket.pause(for: .nan)
        let task = Task { () async throws(SourceError) -> Int in try await bucket.acquire(); return 0 }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        await #expect(throws: SourceError.cancelled) { try await task.value }
    }
}
