import Common
import Foundation
import Testing
import MarketData
@testable import Venues
import TestSupport

/// MT5Source against the real integrations/mt5/mt5_bridge.py, run by python3 with the fake `MetaTrader5` module
/// (integrations/mt5/testing) on PYTHONPATH, bound to 127.0.0.1 on an ephemeral port.
@Suite(.enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason))) struct MT5SourceTests {
    static let bridge = Samples.root.appendingPathComponent("integrations/mt5/mt5_bridge.py").path
    static let fakeModule = Samples.root.appendingPathComponent("integrations/mt5/testing").path
    static let token = "test-token-0123456789"

    func withBridge(_ environment: [String: String] = [:],
                    _ body: (MT5Configuration, PythonServer) async throws -> Void) async throws {
        var env = environment
        env["PYTHONPATH"] = Self.fakeModule
        env["AITRADER_MT5_TOKEN"] = Self.token
        let server = try #require(try PythonServer.start(script: Self.bridge,
                                                         arguments: ["--port", "0", "--log-level",
                                                                     "WARNING", "--max-lifetime", "600"],
                                                         environment: env),
                                  "python3 is not on PATH")
        defer { server.stop() }
        let config = MT5Configuration(host: "127.0.0.1", port: server.port, token: Self.token,
                                      serverTimeZone: .fixed(hours: 2), timeout: 10,
                                      retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05, maxDelay: 0.5))
        try await body(config, server)
    }

    let monday = UTCTime.milliseconds(year: 2024, month: 1, day: 8)

    @Test func fetchesRangeInUTCAcrossChunks() async throws {
        try await withBridge { config, _ in
            let source = MT5Source(configuration: config)
            let bars = try await source.fetchOHLCV(symbol: "EURUSD", timeframe: .h1, start: monday,
                                                   end: monday + 5 * UTCTime.msPerDay)
            // Server (UTC+2) weekday hours from Monday 02:00 to Friday 23:00 = 118 bars, first at Monday 00:00 UTC.
            #expect(bars.count == 118)
            #expect(bars.timestamps[0] == monday)
            #expect(bars.timestamps[bars.count - 1] == monday + 4 * UTCTime.msPerDay + 21 * UTCTime.msPerHour)
            #expect(bars.volume[0] > 1000 && bars.high[0] > bars.low[0])
            var small = config
            small.maxBarsPerRequest = 7
            let chunked = try await MT5Source(configuration: small).fetchOHLCV(symbol: "EURUSD", timeframe: .h1,
                                                                               start: monday, end: monday + 5 * UTCTime.msPerDay)
            #expect(chunked == bars)
        }
    }

    @Test func latestTickAndSymbols() async throws {
        try await withBridge(["FAKE_MT5_NOW": "1704888000"]) { config, _ in
            let source = MT5Source(configuration: config)
            let last = try await source.latest(symbol: "GBPUSD", timeframe: .h1, count: 3)
            let serverNow = Int64(1_704_888_000_000)
            #expect(last.timestamps.array == [2, 1, 0].map { serverNow - 2 * UTCTime.msPerHour - Int64($0) * UTCTime.msPerHour })
            let quote = try await source.tick(symbol: "EURUSD")
            #expect(quote.bid == 1.10012 && quote.ask == 1.10025 && quote.time == 1_704_888_000_123 - 2 * UTCTime.msPerHour)
            #expect(try await source.supportedSymbols() == ["EURUSD", "GBPUSD", "US500"])
        }
    }

    @Test func rejectsBadTokenAndUnknownSymbols() async throws {
        try await withBridge { config, _ in
            var wrong = config
            wrong.token = "not-the-token"
            await #expect(throws: SourceError.self) {
                _ = try await MT5Source(configuration: wrong).supportedSymbols()
            }
            do throws(SourceError) {
                _ = try await MT5Source(configuration: wrong).supportedSymbols()
            } catch {
                guard case .unauthorized = error else { Issue.record("expected unauthorized, got \(error)"); return }
            }
            do throws(SourceError) {
                _ = try await MT5Source(configuration: config).fetchOHLCV(symbol: "NOPE", timeframe: .h1, start: monday,
                                                                         end: monday + UTCTime.msPerDay)
                Issue.record("expected an error")
            } catch {
                guard case .invalidRequest(let m) = error else { Issue.record("expected invalidRequest, got \(error)"); return }
                #expect(m.contains("Invalid params"))
            }
        }
    }

    @Test func survivesLostTerminalConnection() async throws {
        try await withBridge(["FAKE_MT5_DROP_ONCE": "1"]) { config, _ in
            // The fake reports "No IPC connection" once; the bridge re-initialises and the call still succeeds.
            let bars = try await MT5Source(configuration: config).fetchOHLCV(symbol: "EURUSD", timeframe: .h4,
                                                                             start: monday, end: monday + UTCTime.msPerDay)
            #expect(bars.count == 6)
        }
    }

    @Test func reconnectsAfterTheBridgeDropsTheConnection() async throws {
        try await withBridge { config, server in
            let source = MT5Source(configuration: config)
            _ = try await source.supportedSymbols()
            await source.disconnect()
            #expect(try await source.supportedSymbols().count == 3)
            // A dead bridge is a transient error (retried, then reported), never a hang.
            server.stop()
            await #expect(throws: SourceError.self) { _ = try await source.supportedSymbols() }
        }
    }
}
