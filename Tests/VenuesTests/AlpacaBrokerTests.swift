import Common
import Foundation
import MarketData
import TestSupport
import Testing
import Trading
@testable import Venues

/// `AlpacaBroker` against the fake Alpaca broker (integrations/alpaca/testing), which speaks the Trading API v2 wire
/// format (numbers as strings, nested bracket legs, FILL activities, 429 with X-Ratelimit-Reset, trade_updates in
/// binary frames) and injects faults on request. The market is the EURUSD sample, stepped bar by bar.
@Suite(.serialized, .enabled(if: PythonServer.shouldRun, "python3 is not on PATH"))
struct AlpacaBrokerTests {
    static let script = Samples.root.appendingPathComponent("integrations/alpaca/testing/fake_alpaca_broker.py").path
    static let bars = Samples.root.appendingPathComponent("data/sample/EURUSD_H1.csv").path
    static let secret = "fake-secret-5f0c2a9e"

    final class Fake: @unchecked Sendable {
        let server: PythonServer
        let base: String
        let http = HTTPClient(timeout: 30)
        init(server: PythonServer) {
            self.server = server
            base = "http://127.0.0.1:\(server.port)"
        }

        func control(_ path: String, _ body: Any) async throws -> [String: Any] {
            let data = try JSONSerialization.data(withJSONObject: body)
            let r = try await http.send("POST", base + path, body: data)
            return try JSONSerialization.jsonObject(with: r.body) as? [String: Any] ?? [:]
        }

        func advance(_ n: Int = 1) async throws { _ = try await control("/_fake/advance", ["bars": n]) }
        func faults(_ specs: [[String: Any]]) async throws { _ = try await control("/_fake/faults", specs) }
        func price(_ p: Double) async throws { _ = try await control("/_fake/price", ["symbol": "EURUSD", "price": "\(p)"]) }

        func state() async throws -> [String: Any] {
            let r = try await http.get(base + "/_fake/state")
            return try JSONSerialization.jsonObject(with: r.body) as? [String: Any] ?? [:]
        }

        func orders(clientOrderID id: String) async throws -> [[String: Any]] {
            (try await state()["orders"] as? [[String: Any]] ?? []).filter { $0["client_order_id"] as? String == id }
        }

        var lastPrice: Double {
            get async throws { Double((try await state()["last_prices"] as? [String: String])?["EURUSD"] ?? "") ?? .nan }
        }
    }

    func withBroker(extra: [String] = [], timeout: Double = 10, quotes: [String] = [],
                    _ body: (AlpacaBroker, Fake) async throws -> Void) async throws {
        let server = try #require(try PythonServer.start(
            script: Self.script,
            arguments: ["--bars", Self.bars, "--symbol", "EURUSD", "--start", "2017-09-01T00:00:00Z", "--rate-limit", "100000",
                        "--lifetime", "600"] + extra,
            environment: ["FAKE_ALPACA_KEY": "fake-key", "FAKE_ALPACA_SECRET": Self.secret]))
        defer { server.stop() }
        let fake = Fake(server: server)
        var config = AlpacaConfiguration(dataURL: fake.base, tradingURL: fake.base, keyID: "fake-key", secretKey: Self.secret,
                                         requestsPerMinute: 60_000,
                                         retry: RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 0.2), timeout: timeout)
        config.streamSilenceLimit = 3
        config.tradingStreamURL = "ws://127.0.0.1:\(server.port)/stream"
        config.dataStreamURL = "ws://127.0.0.1:\(server.port)"
        let broker = AlpacaBroker(configuration: config, historyStart: 0, quoteSymbols: quotes)
        try await body(broker, fake)
        await broker.close()
    }

    static func bracket(_ price: Double, units: Double = 10_000) -> OrderRequest {
        OrderRequest(symbol: "EURUSD", side: .buy, size: .units(units), stopLoss: price - 0.0050, takeProfit: price + 0.0080)
    }

    @Test func aBracketFillsItsLegsAreOursAndTheStopCancelsTheTarget() async throws {
        try await withBroker { broker, fake in
            let price = try await fake.lastPrice
            let ack = try await broker.submit(Self.bracket(price), clientOrderID: "t-1")
            #expect(ack.clientOrderID == "t-1" && ack.side == .buy && ack.quantity == 10_000)
            #expect(ack.status != .rejected, "\(ack)")
            try await fake.advance()
            let open = try await broker.orders(openOnly: true)
            #expect(Set(open.map(\.clientOrderID)) == ["t-1-sl", "t-1-tp"], "\(open)")
            #expect(try await broker.order(clientOrderID: "t-1").status == .filled)
            #expect(try await broker.positions().first?.quantity == 10_000)
            // The market falls through the stop: the stop-loss fills, the take-profit is cancelled (one-cancels-other).
            try await fake.price(price - 0.0100)
            #expect(try await broker.order(clientOrderID: "t-1-sl").status == .filled)
            #expect(try await broker.order(clientOrderID: "t-1-tp").status == .cancelled)
            let fills = try await broker.fills(since: .min)
            #expect(fills.map(\.clientOrderID) == ["t-1", "t-1-sl"], "\(fills)")
            #expect(fills.map(\.side) == [.buy, .sell] && fills.allSatisfy { $0.units == 10_000 })
            #expect(try await broker.positions().isEmpty)
            let account = try await broker.account()
            #expect(account.positions.isEmpty && account.equity > 0 && account.balance == account.equity)
        }
    }

    @Test func aClientOrderIDIsUsedOnceAndUnknownOnesAreSaidSo() async throws {
        try await withBroker { broker, fake in
            let request = OrderRequest(symbol: "EURUSD", side: .sell, size: .units(1_000))
            _ = try await broker.submit(request, clientOrderID: "dup-1")
            await #expect(throws: VenueError.duplicateClientOrderID("dup-1")) { try await broker.submit(request, clientOrderID: "dup-1") }
            await #expect(throws: VenueError.unknownOrder("never-sent")) { try await broker.order(clientOrderID: "never-sent") }
            #expect(try await fake.orders(clientOrderID: "dup-1").count == 1)
            #expect(try await broker.positions().first?.quantity == -1_000)   // a short, signed
        }
    }

    @Test func anOrderAcceptedButNeverAnsweredIsLookedUpNotSentTwice() async throws {
        try await withBroker(timeout: 1) { broker, fake in
            for (n, fault) in [["kind": "timeout_after_accept", "seconds": 3], ["kind": "timeout_after_accept", "close": true]]
                .enumerated() {
                try await fake.faults([fault])
                let id = "ambiguous-\(n)"
                let ack = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(2_000)), clientOrderID: id)
                #expect(ack.clientOrderID == id && ack.status != .rejected, "\(ack)")
                #expect(try await broker.order(clientOrderID: id).status == .filled)
                #expect(try await fake.orders(clientOrderID: id).count == 1)
            }
            // A 5xx before anything was booked: looked up (absent), then sent again under the same id — once.
            try await fake.faults([["kind": "503", "count": 1, "method": "POST", "path": "/v2/orders"]])
            let ack = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(3_000)), clientOrderID: "after-503")
            #expect(ack.status != .rejected)
            #expect(try await broker.order(clientOrderID: "after-503").status == .filled)
            #expect(try await fake.orders(clientOrderID: "after-503").count == 1)
            #expect((try await fake.state()["counters"] as? [String: Any])?["orders_by_client_id_duplicates"] as? Int == 0)
        }
    }

    @Test func rateLimitsAreWaitedOutAndServerErrorsRetried() async throws {
        try await withBroker { broker, fake in
            try await fake.faults([["kind": "429", "count": 3, "reset_in": 1], ["kind": "502", "count": 2, "method": "GET"]])
            let account = try await broker.account()
            #expect(account.equity > 0)
            let injected = try await fake.state()["counters"] as? [String: Any]
            let faults = injected?["faults_injected"] as? [String: Int]
            #expect(faults?["429"] == 3 && faults?["502"] == 2, "\(String(describing: faults))")
        }
    }

    @Test func refusalsAreRejectionsAndBadKeysAreExplainedWithoutTheSecret() async throws {
        try await withBroker { broker, fake in
            let huge = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1e9)), clientOrderID: "huge")
            #expect(huge.status == .rejected && (huge.reason ?? "").contains("buying power"), "\(huge)")
            await #expect(throws: VenueError.self) {
                _ = try await broker.submit(OrderRequest(symbol: "NOPE", side: .buy, size: .units(1)), clientOrderID: "nope")
            }
            var config = broker.configuration
            config.secretKey = "wrong-" + Self.secret
            let other = AlpacaBroker(configuration: config)
            let error = await #expect(throws: VenueError.self) { try await other.account() }
            let text = "\(error.map { "\($0)" } ?? "")"
            #expect(text.contains("APCA_API_KEY_ID") && !text.contains(Self.secret))
            _ = fake
        }
    }

    @Test func workingOrdersAreReplacedAndCancelled() async throws {
        try await withBroker { broker, fake in
            let price = try await fake.lastPrice
            let limit = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(5_000), kind: .limit(price - 0.0200))
            let ack = try await broker.submit(limit, clientOrderID: "lim-1")
            #expect(ack.status == .accepted)
            let replaced = try await broker.replace(clientOrderID: "lim-1", with: OrderChange(quantity: 6_000, limitPrice: price - 0.0300),
                                                    newClientOrderID: "lim-2")
            #expect(replaced.clientOrderID == "lim-2" && replaced.quantity == 6_000 && replaced.status == .accepted)
            #expect(try await broker.order(clientOrderID: "lim-1").status == .cancelled)
            let byVenue = try await broker.order(venueOrderID: replaced.venueOrderID)
            #expect(byVenue.clientOrderID == "lim-2")
            #expect(try await broker.cancel(clientOrderID: "lim-2").status == .cancelled)
            #expect(try await broker.orders(openOnly: true).isEmpty)
            let clock = try await broker.clock()
            #expect(clock.time > 0)
        }
    }

    @Test func closingAPositionCancelsItsExitsFirst() async throws {
        try await withBroker { broker, fake in
            let price = try await fake.lastPrice
            _ = try await broker.submit(Self.bracket(price), clientOrderID: "c-1")
            try await fake.advance()
            let close = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .sell, size: .closePosition), clientOrderID: "c-2")
            #expect(close.status != .rejected, "\(close)")
            #expect(try await broker.order(clientOrderID: "c-2").status == .filled)
            #expect(try await broker.positions().isEmpty)
            #expect(try await broker.orders(openOnly: true).isEmpty)
        }
    }

    @Test func tradeUpdatesArePushedAndAReconnectIsAnnounced() async throws {
        try await withBroker { broker, fake in
            let updates = broker.updates()
            var iterator = updates.makeAsyncIterator()
            #expect(await iterator.next() == .reconnected(stream: "trade_updates"))
            _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)), clientOrderID: "s-1")
            var sawFill = false, sawOrder = false
            while !(sawFill && sawOrder), let u = await iterator.next() {
                if case .fill(let f) = u, f.clientOrderID == "s-1" { sawFill = true }
                if case .order(let o) = u, o.clientOrderID == "s-1", o.status == .filled { sawOrder = true }
            }
            try await fake.faults([["kind": "drop_trade_stream"]])
            var lost = false
            while let u = await iterator.next() {
                if case .disconnected = u { lost = true }
                if case .reconnected = u, lost { break }
            }
            #expect(lost)
        }
    }

    @Test func aTradeStreamThatGoesQuietAfterAnOrderIsReconnected() async throws {
        try await withBroker { broker, fake in
            let updates = broker.updates()
            var iterator = updates.makeAsyncIterator()
            #expect(await iterator.next() == .reconnected(stream: "trade_updates"))
            // "Connected", answering pings, but no trade update after an order: silent (limit 3 s in these tests).
            try await fake.faults([["kind": "silent_trade_stream", "seconds": 30]])
            _ = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)), clientOrderID: "q-1")
            var reason = ""
            while let u = await iterator.next() {
                if case .disconnected(_, let why) = u { reason = why }
                if case .reconnected = u, !reason.isEmpty { break }
            }
            #expect(reason.contains("silent"), "\(reason)")
            #expect(try await broker.order(clientOrderID: "q-1").status == .filled)   // re-queried after the gap
        }
    }

    @Test func quotesComeFromTheMarketDataStream() async throws {
        try await withBroker(quotes: ["EURUSD"]) { broker, fake in
            let updates = broker.updates()
            var connected = Set<String>()
            var iterator = updates.makeAsyncIterator()
            while connected.count < 2, let u = await iterator.next() {
                if case .reconnected(let stream) = u { connected.insert(stream) }
            }
            #expect(connected == ["trade_updates", "quotes"])
            try await fake.advance()
            let close = try await fake.lastPrice
            while let u = await iterator.next() {
                if case .quote(let symbol, let bid, let ask, _) = u {
                    #expect(symbol == "EURUSD" && bid < ask && abs((bid + ask) / 2 - close) < 0.001, "\(u)")
                    break
                }
            }
        }
    }

    @Test func theCalendarIsInUTCAndPartialFillsAddUp() async throws {
        try await withBroker { broker, fake in
            // The fake trades FX hours: 17:00 New York to 17:00 the next day, five sessions a week.
            let sessions = try await broker.calendar(start: "2017-09-04", end: "2017-09-08")
            #expect(sessions.map(\.date) == ["2017-09-04", "2017-09-05", "2017-09-06", "2017-09-07", "2017-09-08"])
            #expect(sessions.allSatisfy { $0.close - $0.open == 24 * 3_600_000 })
            #expect(sessions.first?.close == UTCTime.parse("2017-09-04T21:00:00Z"))      // 17:00 EDT
            #expect(AlpacaBroker.newYork(date: "2018-01-02", time: "09:30") == UTCTime.parse("2018-01-02T14:30:00Z"))   // EST

            try await fake.faults([["kind": "partial_fill", "parts": 3]])
            let ack = try await broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(3_000)), clientOrderID: "p-1")
            #expect(ack.status != .rejected)
            var seen: [OrderStatus] = []
            for _ in 0..<4 {
                seen.append(try await broker.order(clientOrderID: "p-1").status)
                try await fake.advance()
            }
            #expect(seen.contains(.partiallyFilled) && seen.last == .filled, "\(seen)")
            let fills = try await broker.fills(since: .min).filter { $0.clientOrderID == "p-1" }
            #expect(fills.count == 3 && abs(fills.reduce(0) { $0 + $1.units } - 3_000) < 1e-9, "\(fills)")
            #expect(try await broker.positions().first?.quantity == 3_000)
        }
    }
}
