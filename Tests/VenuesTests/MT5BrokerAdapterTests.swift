import Common
import Foundation
import Testing
import MarketData
import Trading
@testable import Venues
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// MT5Broker as a `BrokerAdapter` against the real integrations/mt5/mt5_bridge.py with the fake `MetaTrader5` module
/// (EURUSD bid 1.10012 / ask 1.10025 at 2024-01-10 12:00 server time = UTC here, contract 100,000, 0.01-lot steps).
/// The fake's market moves when the test rewrites its market file (FAKE_MT5_MARKET_FILE), filling the pending orders
/// the new prices reach. The bridge admits one connection: the poll and the test's calls share it. Serialized: each
/// test runs a bridge and a poll, and waits on what the poll reports (deadlines are generous for a loaded machine,
/// and a wait ends as soon as its condition holds).
@Suite(.serialized, .enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason)))
struct MT5BrokerAdapterTests {
    static let fakeNow: Int64 = 1_704_888_000_000
    static let bid = 1.10012, ask = 1.10025

    /// A bridge on `port` (0: any) with the fake terminal reading `marketFile`.
    static func startBridge(port: Int = 0, marketFile: String) throws -> PythonServer? {
        try PythonServer.start(script: MT5SourceTests.bridge,
                               arguments: ["--port", "\(port)", "--log-level", "WARNING", "--max-connections", "1",
                                           "--max-lifetime", "600"],
                               environment: ["PYTHONPATH": MT5SourceTests.fakeModule,
                                             "AITRADER_MT5_TOKEN": MT5SourceTests.token,
                                             "FAKE_MT5_MARKET_FILE": marketFile])
    }

    struct Bench {
        let broker: MT5Broker
        let source: MT5Source
        let server: PythonServer
        let marketFile: String

        /// Moves the fake's EURUSD market (time in server seconds) and, optionally, its trade mode.
        func moveMarket(bid: Double, ask: Double, time: Int64 = 1_704_888_000, tradeMode: Int? = nil) throws {
            var eurusd: [String: Any] = ["bid": bid, "ask": ask, "time": time]
            if let tradeMode { eurusd["trade_mode"] = tradeMode }
            let data = try JSONSerialization.data(withJSONObject: ["EURUSD": eurusd])
            try data.write(to: URL(fileURLWithPath: marketFile), options: .atomic)
        }

        /// A bridge call straight to the fake terminal (what the test checks there).
        func terminal(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
            try await source.connection.call(method, ParamsBox(params)).value
        }
    }

    func withBench(_ options: MT5BrokerOptions = MT5BrokerOptions(), _ body: (Bench) async throws -> Void) async throws {
        let marketFile = NSTemporaryDirectory() + "aitrader-mt5-market-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: marketFile) }
        let server = try #require(try Self.startBridge(marketFile: marketFile), "python3 is not on PATH")
        defer { server.stop() }
        let config = MT5Configuration(host: "127.0.0.1", port: server.port, token: MT5SourceTests.token,
                                      serverTimeZone: .utc, timeout: 10,
                                      retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.02, maxDelay: 0.05))
        let source = MT5Source(configuration: config)
        let broker = MT5Broker(source: source, historyStart: UTCTime.milliseconds(year: 2024, month: 1, day: 1),
                               options: options)
        await broker.setClock { Self.fakeNow }
        try await body(Bench(broker: broker, source: source, server: server, marketFile: marketFile))
        await broker.close()
    }

    static let limitBuy = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(20_000), kind: .limit(1.09),
                                       stopLoss: 1.08, takeProfit: 1.11)

    // MARK: replace

    @Test func replaceMovesAPendingOrderInPlaceAndKeepsItsStops() async throws {
        try await withBench { bench in
            let placed = try await bench.broker.submit(Self.limitBuy, clientOrderID: "robot-r1")
            let moved = try await bench.broker.replace(clientOrderID: "robot-r1",
                                                       with: OrderChange(quantity: 20_000, limitPrice: 1.095, timeInForce: .day),
                                                       newClientOrderID: "robot-r1")
            #expect(moved.venueOrderID == placed.venueOrderID && moved.clientOrderID == "robot-r1")
            #expect(moved.status == .accepted && moved.quantity == 20_000)
            let ticket = try #require(Int(placed.venueOrderID))
            let orders = try #require(try await bench.terminal("orders_get", ["ticket": ticket])["orders"] as? [[String: Any]])
            let record = try #require(orders.first)
            #expect(record["price_open"] as? Double == 1.095)
            #expect(record["type_time"] as? Int == 1)                                   // ORDER_TIME_DAY
            #expect(record["sl"] as? Double == 1.08 && record["tp"] as? Double == 1.11) // kept, not cleared
            #expect(record["volume_current"] as? Double == 0.2)
            // A change that changes nothing is answered without a request (MetaTrader would say 10025).
            let same = try await bench.broker.replace(clientOrderID: "robot-r1", with: OrderChange(limitPrice: 1.095),
                                                      newClientOrderID: "robot-r1")
            #expect(same == moved)
            #expect(try await bench.broker.orders(openOnly: true).count == 1)
        }
    }

    @Test func replaceRefusesWhatMetaTraderCannotDoInWords() async throws {
        try await withBench { bench in
            let placed = try await bench.broker.submit(Self.limitBuy, clientOrderID: "robot-r2")
            func refusal(_ change: OrderChange, newID: String = "robot-r2", id: String = "robot-r2") async -> String {
                do {
                    _ = try await bench.broker.replace(clientOrderID: id, with: change, newClientOrderID: newID)
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
            let volume = await refusal(OrderChange(quantity: 30_000))
            #expect(volume.contains("cannot change the volume of a pending order"), "\(volume)")
            let renamed = await refusal(OrderChange(limitPrice: 1.091), newID: "robot-r2b")
            #expect(renamed.contains("modifies a pending order in place") && renamed.contains("robot-r2b"), "\(renamed)")
            let stop = await refusal(OrderChange(stopPrice: 1.2))
            #expect(stop.contains("limit order: it has no stop price"), "\(stop)")
            let ioc = await refusal(OrderChange(timeInForce: .ioc))
            #expect(ioc.contains("immediate-or-cancel"), "\(ioc)")
            let nan = await refusal(OrderChange(limitPrice: .nan))
            #expect(nan.contains("not a positive price"), "\(nan)")
            // The trade server's refusal: a buy limit above the ask (10015); the order stands unchanged.
            let wrongSide = await refusal(OrderChange(limitPrice: 1.2))
            #expect(wrongSide.contains("retcode 10015 (invalid price)") && wrongSide.contains("stands unchanged"), "\(wrongSide)")
            let ticket = try #require(Int(placed.venueOrderID))
            let record = try #require((try await bench.terminal("orders_get", ["ticket": ticket])["orders"] as? [[String: Any]])?.first)
            #expect(record["price_open"] as? Double == 1.09)
            // A finished order, and one never sent.
            _ = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)),
                                              clientOrderID: "robot-r2-market")
            let filled = await refusal(OrderChange(limitPrice: 1.1), newID: "robot-r2-market", id: "robot-r2-market")
            #expect(filled.contains("is filled: only a working pending order can be changed"), "\(filled)")
            await #expect(throws: VenueError.unknownOrder("robot-never")) {
                try await bench.broker.replace(clientOrderID: "robot-never", with: OrderChange(limitPrice: 1.0),
                                               newClientOrderID: "robot-never")
            }
        }
    }

    /// A stop-limit order: the stop price is MetaTrader's `price`, the limit its `stoplimit`.
    @Test func replaceMovesBothPricesOfAStopLimitOrder() async throws {
        try await withBench { bench in
            let placed = try await bench.broker.submit(
                OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000), kind: .stopLimit(stop: 1.2, limit: 1.19)),
                clientOrderID: "robot-sl")
            _ = try await bench.broker.replace(clientOrderID: "robot-sl", with: OrderChange(limitPrice: 1.205, stopPrice: 1.21),
                                               newClientOrderID: "robot-sl")
            let ticket = try #require(Int(placed.venueOrderID))
            let record = try #require((try await bench.terminal("orders_get", ["ticket": ticket])["orders"] as? [[String: Any]])?.first)
            #expect(record["price_open"] as? Double == 1.21 && record["price_stoplimit"] as? Double == 1.205)
        }
    }

    // MARK: order by ticket, positions, clock, protection

    @Test func ordersAreFoundByTicket() async throws {
        try await withBench { bench in
            let market = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .sell, size: .units(5_000)),
                                                       clientOrderID: "robot-t1")
            let pending = try await bench.broker.submit(Self.limitBuy, clientOrderID: "robot-t2")
            #expect(try await bench.broker.order(venueOrderID: market.venueOrderID)
                    == bench.broker.order(clientOrderID: "robot-t1"))
            let found = try await bench.broker.order(venueOrderID: pending.venueOrderID)
            #expect(found == (try await bench.broker.order(clientOrderID: "robot-t2")))
            #expect(found.status == .accepted && found.clientOrderID == "robot-t2")
            let filled = try await bench.broker.order(venueOrderID: market.venueOrderID)
            #expect(filled.status == .filled && filled.averageFillPrice == Self.bid && filled.filledQuantity == 5_000)
            await #expect(throws: VenueError.unknownOrder("ticket 999999")) {
                try await bench.broker.order(venueOrderID: "999999")
            }
            await #expect(throws: VenueError.self) { try await bench.broker.order(venueOrderID: "abc") }
            // An order typed by hand in the terminal is not ours.
            let manual = try await bench.terminal("order_send", ["request": [
                "action": 1, "symbol": "EURUSD", "volume": 0.01, "type": 0, "price": Self.ask, "deviation": 10,
                "magic": 0, "comment": "manual"] as [String: Any]])
            let manualTicket = try #require(manual["order"] as? Int)
            await #expect(throws: VenueError.self) { try await bench.broker.order(venueOrderID: "\(manualTicket)") }
            // positions() is the account's positions, manual trades included (the account's truth).
            #expect(try await bench.broker.positions() == (try await bench.broker.account().positions))
            #expect(try await bench.broker.positions().map(\.quantity) == [-4_000])
        }
    }

    @Test func theClockIsTheSymbolsLastTickAndItsTradeMode() async throws {
        try await withBench(MT5BrokerOptions(clockSymbol: "EURUSD")) { bench in
            var clock = try await bench.broker.clock()
            #expect(clock == MarketClock(time: Self.fakeNow + 123, isOpen: true))
            // The last tick a day old: a weekend, a holiday.
            await bench.broker.setClock { Self.fakeNow + UTCTime.msPerDay }
            #expect(try await bench.broker.clock().isOpen == false)
            // A fresh tick but a symbol in close-only mode: no new positions, the market counts as closed.
            await bench.broker.setClock { Self.fakeNow + 60_000 }
            try bench.moveMarket(bid: 1.1, ask: 1.1001, time: 1_704_888_060, tradeMode: 3)
            clock = try await bench.broker.clock()
            #expect(clock == MarketClock(time: Self.fakeNow + 60_000, isOpen: false))
            try bench.moveMarket(bid: 1.1, ask: 1.1001, time: 1_704_888_060, tradeMode: 4)
            #expect(try await bench.broker.clock().isOpen)
        }
        try await withBench { bench in
            do {
                _ = try await bench.broker.clock()
                Issue.record("a clock without a symbol")
            } catch {
                #expect("\(error)".contains("no market-wide clock"), "\(error)")
            }
        }
    }

    @Test func aPositionsStopsMoveThroughSLTP() async throws {
        try await withBench { bench in
            await #expect(throws: VenueError.self) {
                try await bench.broker.setProtection(symbol: "EURUSD", stopLoss: 1.09, takeProfit: nil)
            }
            _ = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000)),
                                              clientOrderID: "robot-p1")
            var levels = try await bench.broker.setProtection(symbol: "EURUSD", stopLoss: 1.09, takeProfit: 1.12)
            #expect(levels.stopLoss == 1.09 && levels.takeProfit == 1.12)
            levels = try await bench.broker.setProtection(symbol: "EURUSD", stopLoss: 1.095, takeProfit: nil)  // trail
            #expect(levels.stopLoss == 1.095 && levels.takeProfit == 1.12)
            let position = try #require((try await bench.terminal("positions_get")["positions"] as? [[String: Any]])?.first)
            #expect(position["sl"] as? Double == 1.095 && position["tp"] as? Double == 1.12)
            do {
                _ = try await bench.broker.setProtection(symbol: "EURUSD", stopLoss: 1.2, takeProfit: nil)  // above the bid
                Issue.record("a stop loss above the bid of a long position was accepted")
            } catch {
                #expect("\(error)".contains("retcode 10016 (invalid stops)"), "\(error)")
            }
        }
    }

    // MARK: updates

    @Test func theStreamSeesAnOrderPlacedThenFilledAndEachFillOnce() async throws {
        try await withBench(MT5BrokerOptions(pollInterval: 0.02, quoteSymbols: ["EURUSD"])) { bench in
            let first = UpdateLog(bench.broker.updates())
            let second = UpdateLog(bench.broker.updates())
            #expect(await first.waitFor { $0.contains(.quote(symbol: "EURUSD", bid: Self.bid, ask: Self.ask, time: Self.fakeNow + 123)) })
            let placed = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(20_000),
                                                                    kind: .limit(1.095)), clientOrderID: "robot-u1")
            #expect(await first.waitFor { $0.orders("robot-u1").map(\.status) == [.accepted] })
            // The market comes down to the limit: the trade server fills it at 1.095.
            try bench.moveMarket(bid: 1.0939, ask: 1.0940, time: 1_704_888_060)
            #expect(await first.waitFor { $0.orders("robot-u1").last?.status == .filled && !$0.fills.isEmpty })
            // More polls (each proven by the quote it reports): the fill is never told twice.
            try bench.moveMarket(bid: 1.0941, ask: 1.0942, time: 1_704_888_061)
            #expect(await first.waitFor { $0.contains(.quote(symbol: "EURUSD", bid: 1.0941, ask: 1.0942, time: Self.fakeNow + 61_000)) })
            try bench.moveMarket(bid: 1.0943, ask: 1.0944, time: 1_704_888_062)
            #expect(await first.waitFor { $0.contains(.quote(symbol: "EURUSD", bid: 1.0943, ask: 1.0944, time: Self.fakeNow + 62_000)) })

            let updates = await first.updates
            let orders = updates.orders("robot-u1")
            #expect(orders.map(\.status) == [.accepted, .filled], "\(orders)")
            #expect(orders.allSatisfy { $0.venueOrderID == placed.venueOrderID })
            #expect(orders.last?.filledQuantity == 20_000 && orders.last?.averageFillPrice == 1.095)
            let fills = updates.fills
            #expect(fills.count == 1, "\(fills)")
            #expect(fills.first?.clientOrderID == "robot-u1" && fills.first?.units == 20_000 && fills.first?.price == 1.095)
            #expect(fills.map(\.fillID) == (try await bench.broker.fills(since: 0)).map(\.fillID))
            #expect(!updates.contains { if case .disconnected = $0 { true } else { false } })
            // The second subscriber saw the same order and fill.
            #expect(await second.waitFor { $0.orders("robot-u1").map(\.status) == [.accepted, .filled] && $0.fills == fills })

            // close(): the poll stops, every stream ends, and a later one ends at once.
            await bench.broker.close()
            #expect(await first.waitForEnd())
            #expect(await second.waitForEnd())
            #expect(await bench.broker.isPolling == false)
            let late = UpdateLog(bench.broker.updates())
            #expect(await late.waitForEnd())
        }
    }

    /// A market order and a cancel are told at once (the broker did them), and the deal once, by the poll.
    @Test func theBrokersOwnActionsAreToldAtOnce() async throws {
        try await withBench(MT5BrokerOptions(pollInterval: 0.02, quoteSymbols: ["EURUSD"])) { bench in
            let log = UpdateLog(bench.broker.updates())
            #expect(await log.waitFor { !$0.isEmpty })    // the first quote: the poll runs
            let market = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(10_000)),
                                                       clientOrderID: "robot-u2")
            _ = try await bench.broker.submit(Self.limitBuy, clientOrderID: "robot-u3")
            _ = try await bench.broker.cancel(clientOrderID: "robot-u3")
            #expect(await log.waitFor { $0.fills.map(\.clientOrderID) == ["robot-u2"] })
            try bench.moveMarket(bid: 1.1001, ask: 1.1002, time: 1_704_888_061)
            #expect(await log.waitFor { $0.contains(.quote(symbol: "EURUSD", bid: 1.1001, ask: 1.1002, time: Self.fakeNow + 61_000)) })
            let updates = await log.updates
            #expect(updates.orders("robot-u2") == [market])
            #expect(updates.orders("robot-u3").map(\.status) == [.accepted, .cancelled])
            #expect(updates.fills.count == 1 && updates.fills.first?.price == Self.ask)
        }
    }

    /// The last subscriber leaving stops the poll; a new one starts it again.
    @Test func thePollRunsOnlyWhileSomeoneListens() async throws {
        try await withBench(MT5BrokerOptions(pollInterval: 0.02, quoteSymbols: ["EURUSD"])) { bench in
            let log = UpdateLog(bench.broker.updates())
            #expect(await log.waitFor { !$0.isEmpty })
            #expect(await bench.broker.isPolling)
            log.stop()
            #expect(await waitUntil { await bench.broker.isPolling == false })
            let again = UpdateLog(bench.broker.updates())
            #expect(await again.waitFor { !$0.isEmpty })
        }
    }

    /// A broker dropped without `close()` is freed (the poll holds it only weakly between polls), and freeing it
    /// ends its streams.
    @Test func aDroppedBrokerEndsItsPollAndStreams() async throws {
        let marketFile = NSTemporaryDirectory() + "aitrader-mt5-market-\(UUID().uuidString).json"
        let server = try #require(try Self.startBridge(marketFile: marketFile), "python3 is not on PATH")
        defer { server.stop() }
        let config = MT5Configuration(host: "127.0.0.1", port: server.port, token: MT5SourceTests.token, serverTimeZone: .utc,
                                      timeout: 10, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.02, maxDelay: 0.05))
        var broker: MT5Broker? = MT5Broker(configuration: config, options: MT5BrokerOptions(pollInterval: 0.02,
                                                                                             quoteSymbols: ["EURUSD"]))
        weak let weakBroker = broker
        let log = UpdateLog(try #require(broker).updates())
        #expect(await log.waitFor { !$0.isEmpty })
        broker = nil
        #expect(await waitUntil { weakBroker == nil })
        #expect(await log.waitForEnd())
    }

    /// A reconnect no poll saw fail (the connection dropped and reopened between two polls): reported as both
    /// `.disconnected` and `.reconnected`, since updates may have been missed meanwhile.
    @Test func aReconnectBetweenTwoPollsIsReported() async throws {
        try await withBench(MT5BrokerOptions(pollInterval: 3600, quoteSymbols: ["EURUSD"])) { bench in
            let log = UpdateLog(bench.broker.updates())
            #expect(await log.waitFor { !$0.isEmpty })
            #expect(await waitUntil { await bench.broker.lastHandshakes == 1 })
            await bench.source.disconnect()
            await bench.broker.poll()                 // reconnects on its first call
            #expect(await log.waitFor { $0.count >= 3 })
            let updates = await log.updates
            #expect(updates.count == 3, "\(updates)")
            #expect(updates.last == .reconnected(stream: MT5Broker.bridgeStream))
            #expect(updates.dropLast().last == .disconnected(stream: MT5Broker.bridgeStream,
                                                             reason: "the bridge connection was lost and re-established"))
        }
    }

    /// kill -9 of the bridge: the stream says `.disconnected` once and keeps polling; the bridge restarted on the same
    /// port, the next poll reconnects and says `.reconnected`, and updates flow again.
    @Test func aKilledBridgeIsReportedAndTheStreamRecovers() async throws {
        try await withBench(MT5BrokerOptions(pollInterval: 0.02, quoteSymbols: ["EURUSD"])) { bench in
            let log = UpdateLog(bench.broker.updates())
            #expect(await log.waitFor { !$0.isEmpty })
            kill(bench.server.processIdentifier, SIGKILL)
            bench.server.stop()   // reaps it (already dead)
            #expect(await log.waitFor { $0.contains { if case .disconnected = $0 { true } else { false } } })
            let restarted = try #require(try Self.startBridge(port: bench.server.port, marketFile: bench.marketFile))
            defer { restarted.stop() }
            #expect(await log.waitFor { $0.contains(.reconnected(stream: MT5Broker.bridgeStream)) })
            let market = try await bench.broker.submit(OrderRequest(symbol: "EURUSD", side: .sell, size: .units(1_000)),
                                                       clientOrderID: "robot-k1")
            #expect(await log.waitFor { $0.fills.map(\.clientOrderID) == ["robot-k1"] })
            let links = await log.updates.compactMap { update -> String? in
                switch update {
                case .disconnected(let stream, _): "down \(stream)"
                case .reconnected(let stream): "up \(stream)"
                default: nil
                }
            }
            #expect(links == ["down mt5-bridge", "up mt5-bridge"], "\(links)")
            #expect(market.status == .filled)
        }
    }
}

/// Records one update stream in the background.
final class UpdateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [BrokerUpdate] = []
    private var ended = false
    private var task: Task<Void, Never>?

    init(_ stream: AsyncStream<BrokerUpdate>) {
        task = Task { [weak self] in
            for await update in stream { self?.append(update) }
            self?.finish()
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func append(_ update: BrokerUpdate) { locked { received.append(update) } }
    private func finish() { locked { ended = true } }

    var updates: [BrokerUpdate] { get async { locked { received } } }
    var hasEnded: Bool { locked { ended } }

    /// Stops listening (the stream's consumer goes away).
    func stop() { task?.cancel() }

    /// Waits (at most `timeout` seconds) until the updates so far satisfy `condition`.
    func waitFor(timeout: Double = 30, _ condition: @escaping @Sendable ([BrokerUpdate]) -> Bool) async -> Bool {
        await waitUntil(timeout: timeout) { condition(self.locked { self.received }) }
    }

    func waitForEnd(timeout: Double = 30) async -> Bool { await waitUntil(timeout: timeout) { self.hasEnded } }
}

/// Polls `condition` every 5 ms for at most `timeout` seconds.
func waitUntil(timeout: Double = 30, _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return await condition()
}

extension [BrokerUpdate] {
    func orders(_ clientOrderID: String) -> [OrderReport] {
        compactMap { if case .order(let report) = $0, report.clientOrderID == clientOrderID { report } else { nil } }
    }

    var fills: [FillReport] { compactMap { if case .fill(let fill) = $0 { fill } else { nil } } }
}
