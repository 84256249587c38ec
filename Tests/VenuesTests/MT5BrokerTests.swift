import Common
import Foundation
import Testing
import MarketData
import Trading
@testable import Venues
import TestSupport

/// MT5Broker against the real integrations/mt5/mt5_bridge.py with the fake `MetaTrader5` module (a netting account,
/// 10,000 USD, EURUSD bid 1.10012 / ask 1.10025, contract 100,000, volume step 0.01 lot, commission 3.5 USD a lot).
/// The bridge admits one connection only: the broker and the source it is built on share it.
@Suite(.enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason))) struct MT5BrokerTests {
    /// The fake terminal's clock: 2024-01-10 12:00 server time (UTC here).
    static let fakeNow: Int64 = 1_704_888_000_000
    static let bid = 1.10012, ask = 1.10025

    func withBroker(_ environment: [String: String] = [:], cleanLog: Bool = true,
                    _ body: (MT5Broker, MT5Source) async throws -> Void) async throws {
        var env = environment
        env["PYTHONPATH"] = MT5SourceTests.fakeModule
        env["AITRADER_MT5_TOKEN"] = MT5SourceTests.token
        let server = try #require(try PythonServer.start(script: MT5SourceTests.bridge,
                                                         arguments: ["--port", "0", "--log-level", "WARNING",
                                                                     "--max-connections", "1", "--max-lifetime", "600"],
                                                         environment: env),
                                  "python3 is not on PATH")
        defer { server.stop() }
        let config = MT5Configuration(host: "127.0.0.1", port: server.port, token: MT5SourceTests.token,
                                      serverTimeZone: .utc, timeout: 10,
                                      retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.2))
        let source = MT5Source(configuration: config)
        let broker = MT5Broker(source: source, historyStart: UTCTime.milliseconds(year: 2024, month: 1, day: 1))
        await broker.setClock { Self.fakeNow }
        try await body(broker, source)
        if cleanLog { #expect(!server.stderrText.contains("Traceback"), "\(server.stderrText)") }
    }

    @Test func marketOrdersFillAndTheAccountReconciles() async throws {
        try await withBroker { broker, source in
            // Bars and orders over the one bridge connection.
            #expect(try await source.latest(symbol: "EURUSD", timeframe: .h1, count: 3).count == 3)
            let buy = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000)),
                                              clientOrderID: "robot-1-EURUSD-buy")
            #expect(buy.status == .filled)
            #expect(buy.filledQuantity == 10_000 && buy.quantity == 10_000)
            #expect(buy.averageFillPrice == Self.ask)
            #expect(!buy.venueOrderID.isEmpty)
            #expect(try await broker.order(clientOrderID: "robot-1-EURUSD-buy") == buy)

            var account = try await broker.account()
            #expect(account.positions == [PositionReport(symbol: "EURUSD", quantity: 10_000, averagePrice: Self.ask,
                                                         mark: Self.ask)])
            #expect(abs(account.balance - (10_000 - 0.35)) < 1e-9)   // 3.5 USD a lot x 0.1 lot

            let close = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .sell, size: .closePosition),
                                                clientOrderID: "robot-2-EURUSD-close")
            #expect(close.status == .filled && close.averageFillPrice == Self.bid && close.filledQuantity == 10_000)
            account = try await broker.account()
            #expect(account.positions.isEmpty)
            // Two commissions and the spread: (bid - ask) x 10,000 units = -1.3 USD.
            #expect(abs(account.balance - (10_000 - 0.7 + (Self.bid - Self.ask) * 10_000)) < 1e-6)

            let fills = try await broker.fills(since: UTCTime.milliseconds(year: 2024, month: 1, day: 1))
            #expect(fills.map(\.clientOrderID) == ["robot-1-EURUSD-buy", "robot-2-EURUSD-close"])
            #expect(fills.map(\.side) == [.buy, .sell])
            #expect(fills.map(\.units) == [10_000, 10_000])
            #expect(fills.map(\.price) == [Self.ask, Self.bid])
            #expect(fills.allSatisfy { abs($0.commission - 0.35) < 1e-12 })
            #expect(Set(fills.map(\.fillID)).count == 2)
            #expect(try await broker.fills(since: Self.fakeNow + 3_600_000).isEmpty)
        }
    }

    /// Requests MT5 cannot take are refused before anything is sent, in the user's terms; a stop-limit order is
    /// placed as MT5's pending stop-limit (price = the stop, stoplimit = the limit).
    @Test func requestsMT5CannotTakeAreRefusedAndStopLimitsArePlaced() async throws {
        try await withBroker { broker, _ in
            for kind in [OrderKind.limit(1.09), .stop(1.2), .stopLimit(stop: 1.2, limit: 1.21)] {
                await #expect(throws: VenueError.self) {
                    _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000), kind: kind,
                                                             timeInForce: .ioc), clientOrderID: "robot-ioc-\(kind.name)")
                }
            }
            do {
                _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .sell, size: .closePosition),
                                            clientOrderID: "robot-close-flat")
                Issue.record("closing a flat position was accepted")
            } catch {
                #expect("\(error)".contains("no long EURUSD position to close"), "\(error)")
            }
            do {
                _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1e12)),
                                            clientOrderID: "robot-huge")
                Issue.record("an order beyond the volume limit was accepted")
            } catch {
                #expect("\(error)".contains("is outside"), "\(error)")
            }
            await #expect(throws: VenueError.self) {
                _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .equityFraction(0.5)),
                                            clientOrderID: "robot-fraction")
            }
            let placed = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000),
                                                              kind: .stopLimit(stop: 1.2, limit: 1.21), timeInForce: .day),
                                                 clientOrderID: "robot-stop-limit")
            #expect(placed.status == .accepted && placed.filledQuantity == 0, "\(placed)")
            #expect(try await broker.orders(openOnly: true).map(\.clientOrderID).contains("robot-stop-limit"))
            #expect(try await broker.cancel(clientOrderID: "robot-stop-limit").status == .cancelled)
        }
    }

    /// The broker built from a configuration opens its own source (and so its own connection to the bridge).
    @Test func aBrokerFromAConfigurationReachesTheBridge() async throws {
        var env: [String: String] = ["PYTHONPATH": MT5SourceTests.fakeModule, "AITRADER_MT5_TOKEN": MT5SourceTests.token]
        env["PYTHONPATH"] = MT5SourceTests.fakeModule
        let server = try #require(try PythonServer.start(script: MT5SourceTests.bridge,
                                                         arguments: ["--port", "0", "--log-level", "WARNING", "--max-lifetime", "600"],
                                                         environment: env), "python3 is not on PATH")
        defer { server.stop() }
        let config = MT5Configuration(host: "127.0.0.1", port: server.port, token: MT5SourceTests.token, serverTimeZone: .utc,
                                      timeout: 10, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.2))
        let broker = MT5Broker(configuration: config)
        #expect(broker.name == "mt5")
        let account = try await broker.account()
        #expect(account.balance == 10_000 && account.positions.isEmpty)
    }

    @Test func pendingOrdersArePlacedListedAndCancelled() async throws {
        try await withBroker { broker, _ in
            let placed = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(20_000),
                                                              kind: .limit(1.09), stopLoss: 1.08, takeProfit: 1.11),
                                                 clientOrderID: "robot-3-EURUSD-limit")
            #expect(placed.status == .accepted && placed.filledQuantity == 0)
            var open = try await broker.orders(openOnly: true)
            #expect(open.map(\.clientOrderID) == ["robot-3-EURUSD-limit"])
            #expect(open.first?.quantity == 20_000 && open.first?.status == .accepted)

            let cancelled = try await broker.cancel(clientOrderID: "robot-3-EURUSD-limit")
            #expect(cancelled.status == .cancelled && cancelled.venueOrderID == placed.venueOrderID)
            open = try await broker.orders(openOnly: true)
            #expect(open.isEmpty)
            #expect(try await broker.orders(openOnly: false).map(\.status) == [.cancelled])
            // A finished order stays finished.
            #expect(try await broker.cancel(clientOrderID: "robot-3-EURUSD-limit").status == .cancelled)
            await #expect(throws: VenueError.unknownOrder("never-sent")) {
                try await broker.cancel(clientOrderID: "never-sent")
            }
        }
    }

    @Test func aClientOrderIDIsUsedOnce() async throws {
        try await withBroker { broker, _ in
            let request = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000))
            _ = try await broker.submit(request, clientOrderID: "robot-4-EURUSD-1")
            await #expect(throws: VenueError.duplicateClientOrderID("robot-4-EURUSD-1")) {
                try await broker.submit(request, clientOrderID: "robot-4-EURUSD-1")
            }
            #expect(try await broker.fills(since: 0).count == 1)
            #expect(try await broker.account().positions.first?.quantity == 1_000)
        }
    }

    @Test func returnCodesAndBadRequestsMapToOurErrors() async throws {
        try await withBroker { broker, source in
            // 10019 not enough money: 100 lots need 110,000 USD of margin at 1:100.
            let poor = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000_000)),
                                               clientOrderID: "robot-5-big")
            #expect(poor.status == .rejected)
            #expect(poor.reason?.contains("retcode 10019 (not enough money)") == true, "\(poor.reason ?? "")")
            // Refused before anything is sent: a volume off the 0.01-lot step, an equity fraction, a long id.
            await #expect(throws: VenueError.self) {
                try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_234)), clientOrderID: "a")
            }
            await #expect(throws: VenueError.self) {
                try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .allEquity), clientOrderID: "b")
            }
            await #expect(throws: VenueError.self) {
                try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)),
                                        clientOrderID: String(repeating: "x", count: 32))
            }
            await #expect(throws: VenueError.self) {
                try await broker.submit(OrderRequest(symbol: "NOPE", side: .buy, size: .units(1_000)), clientOrderID: "c")
            }
            await #expect(throws: VenueError.unknownOrder("robot-5-never")) {
                try await broker.order(clientOrderID: "robot-5-never")
            }
            // An order sent by someone else (a person, another expert) is not ours.
            let manual = try await source.connection.call("order_send", ParamsBox(["request": [
                "action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "price": Self.ask, "deviation": 10,
                "magic": 0, "comment": "manual"] as [String: Any]]))
            #expect(manual.value["retcode"] as? Int == 10009)
            #expect(try await broker.orders(openOnly: false).isEmpty)
            #expect(try await broker.fills(since: 0).isEmpty)
            #expect(try await broker.account().positions.first?.quantity == 1_000)   // the account's truth includes it
        }
    }

    @Test func autoTradingDisabledIsAVenueError() async throws {
        try await withBroker(["FAKE_MT5_AUTOTRADING_OFF": "1"]) { broker, _ in
            do {
                _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)),
                                            clientOrderID: "robot-6")
                Issue.record("an order passed with AutoTrading off")
            } catch let error as VenueError {
                guard case .refused(let why) = error else { Issue.record("\(error)"); return }
                #expect(why.contains("retcode 10027") && why.contains("enable AutoTrading"), "\(why)")
            }
        }
    }

    /// The order executed but its answer was lost: the broker looks the id up and reports the fill; sending the same
    /// id again is refused, so the order exists once.
    @Test func anAmbiguousFailureIsLookedUpNotResent() async throws {
        // The bridge logs the failed terminal call with its traceback, as it should.
        try await withBroker(["FAKE_MT5_LOSE_REPLY_ONCE": "1"], cleanLog: false) { broker, _ in
            let request = OrderRequest(symbol: "EURUSD", side: .sell, size: .units(5_000))
            let report = try await broker.submit(request, clientOrderID: "robot-7-EURUSD")
            #expect(report.status == .filled && report.filledQuantity == 5_000 && report.averageFillPrice == Self.bid)
            await #expect(throws: VenueError.duplicateClientOrderID("robot-7-EURUSD")) {
                try await broker.submit(request, clientOrderID: "robot-7-EURUSD")
            }
            #expect(try await broker.fills(since: 0).count == 1)
            #expect(try await broker.account().positions.first?.quantity == -5_000)
        }
    }

    @Test func magicIsAStable52BitHash() {
        #expect(MT5Broker.magic(for: "robot-1") == MT5Broker.magic(for: "robot-1"))
        #expect(MT5Broker.magic(for: "robot-1") != MT5Broker.magic(for: "robot-2"))
        #expect((0..<(1 << 52)).contains(MT5Broker.magic(for: String(repeating: "z", count: 31))))
    }
}
