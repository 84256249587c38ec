import Foundation
import MarketData
@testable import Robot
import Simulation
import Testing
import Trading

/// A stand-in broker: the simulated venue, its bars delivered by a simulation clock that is also the feed.
final class StandInBrokerFeed: BarFeed, @unchecked Sendable {
    let name = "stand-in"
    let simulation: SimulationMode
    init(_ simulation: SimulationMode) { self.simulation = simulation }
    var broker: SimulatedVenue { simulation.simulatedVenue }
    func next() async throws(RobotError) -> MarketView? { try await simulation.nextCycle() }
    func skip(through time: Int64) async throws(RobotError) {
        while simulation.time < time { guard try await simulation.nextCycle() != nil else { return } }
    }
}

/// A broker whose every call fails with `error` once `failing` is set (a lost connection).
final class FailingBroker: Venue, @unchecked Sendable {
    let name = "failing"
    let inner: any Venue
    let error: VenueError
    nonisolated(unsafe) var failing = false
    init(_ inner: any Venue, error: VenueError) { self.inner = inner; self.error = error }
    func check() throws(VenueError) { if failing { throw error } }
    func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        try check(); return try await inner.submit(request, clientOrderID: clientOrderID)
    }
    func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try check(); return try await inner.cancel(clientOrderID: clientOrderID)
    }
    func order(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try check(); return try await inner.order(clientOrderID: clientOrderID)
    }
    func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] { try check(); return try await inner.orders(openOnly: openOnly) }
    func fills(since: Int64) async throws(VenueError) -> [FillReport] { try check(); return try await inner.fills(since: since) }
    func account() async throws(VenueError) -> AccountReport { try check(); return try await inner.account() }
}

@Suite(.serialized) struct ProductionModeTests {
    static let token = "production-test-token-0123456789"

    func killSwitch(_ limits: KillSwitch.Limits = .init(), alerts: AlertRecorder = AlertRecorder()) throws -> KillSwitch {
        try KillSwitch(path: temporaryPath("kill-switch.json"), limits: limits,
                       authorization: try .fromEnvironment("T", environment: ["T": Self.token]), alerts: alerts)
    }

    static let permissive = OrderValidator(limits: .init(tradableSymbols: ["EURUSD"], maxUnits: 10_000_000, priceBand: 0.05))

    /// Through every production check with nothing to refuse, the robot decides, sends and fills exactly as in
    /// simulation; the start-up reconciliation of a fresh journal with a fresh broker is clean.
    @Test func aPermissiveProductionRunEqualsTheSimulation() async throws {
        let bars = try RobotFixture.eurusd(bars: 500)
        let source = SyntheticPredictions()
        let simMode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models)
        let sim = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: simMode,
                               journal: try RobotJournal(path: temporaryPath("sim.sqlite"), durability: .process),
                               initialBalance: 10_000)
        try await sim.start()

        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("prod.sqlite"), durability: .process)
        let alerts = AlertRecorder()
        let mode = ProductionMode(broker: feed.broker, killSwitch: try killSwitch(), validator: Self.permissive, feed: feed,
                                  journal: journal, alerts: alerts)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: mode,
                                 journal: journal, initialBalance: 10_000)
        let status = try await robot.start()
        #expect(status.cycles == bars.count)
        #expect(mode.startupReport?.isClean == true)
        #expect(alerts.alerts.first?.key == "reconciliation")
        let a = simMode.simulatedVenue.snapshot, b = feed.broker.snapshot
        #expect(a.orders.map(\.request) == b.orders.map(\.request))
        #expect(a.fills == b.fills && a.fills.count > 10)
        #expect(a.equity == b.equity)
        #expect(mode.productionVenue.validationRefusals.isEmpty)
    }

    /// Orders filled while the robot was down and a position the journal does not know are reported before the
    /// first cycle; with `.tripKillSwitch` the robot then refuses every order.
    @Test func theStartupReconciliationReportsEveryDifference() async throws {
        let bars = try RobotFixture.eurusd(bars: 200)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 100_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("recon.sqlite"), durability: .process)
        _ = try await feed.next()
        let close = bars.close[0]
        // The robot journaled and sent a limit buy, then went down.
        let limit = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000), kind: .limit(close * 1.01))
        try journal.recordOrderIntent(clientOrderID: "r-1", cycle: 0, time: bars.timestamps[0], request: limit)
        try journal.recordOrderReport(try feed.broker.submitNow(limit, clientOrderID: "r-1"))
        // An order the journal never saw (placed by hand at the broker), and an intent that never reached it.
        _ = try feed.broker.submitNow(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(2_000)), clientOrderID: "manual-1")
        try journal.recordOrderIntent(clientOrderID: "r-2", cycle: 0, time: bars.timestamps[0],
                                      request: OrderRequest(symbol: "EURUSD", side: .sell, size: .units(500)))
        _ = try await feed.next()          // both fill on the next bar, while the robot is down
        let alerts = AlertRecorder()
        let ks = try killSwitch(alerts: alerts)
        let mode = ProductionMode(broker: feed.broker, killSwitch: ks, validator: Self.permissive, feed: feed,
                                  journal: journal, onDifference: .tripKillSwitch, alerts: alerts)
        _ = try await mode.nextCycle()
        let report = try #require(mode.startupReport)
        let kinds = report.differences.map(\.kind)
        #expect(kinds.filter { $0 == .orderStatusDiffers }.count == 1)
        #expect(kinds.filter { $0 == .orderUnknownToJournal }.count == 1)
        #expect(kinds.filter { $0 == .orderMissingAtBroker }.count == 1)
        #expect(kinds.filter { $0 == .fillNotJournaled }.count == 2)
        #expect(kinds.filter { $0 == .positionDiffers }.count == 1)
        #expect(report.differences.count == 6)
        let filled = try #require(report.differences.first { $0.kind == .orderStatusDiffers })
        #expect(filled.message.hasPrefix("order r-1: journal accepted, broker filled (filled 1000 @"))
        #expect(filled.message.hasSuffix("while the robot was down)"))
        let position = try #require(report.differences.first { $0.kind == .positionDiffers })
        #expect(position.message == "the broker holds 3000 EURUSD, a position the journal does not know")
        #expect(try journal.session("reconciliation")?.contains("order_unknown_to_journal") == true)
        #expect(alerts.alerts.contains { $0.key == "reconciliation" && $0.level == .warning && $0.message.contains("manual-1") })
        #expect(ks.isActive && ks.state.trigger == .reconciliation)
    }

    /// An active kill switch: the first cycle cancels open orders and flattens (journaled first); every order the
    /// strategy decides is refused and journaled as rejected; nothing reaches the broker.
    @Test func anActiveKillSwitchCancelsFlattensAndRefuses() async throws {
        let bars = try RobotFixture.eurusd(bars: 300)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("ks.sqlite"), durability: .process)
        _ = try await feed.next()
        let resting = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000), kind: .limit(bars.close[0] * 0.9))
        try journal.recordOrderIntent(clientOrderID: "r-1", cycle: 0, time: bars.timestamps[0], request: resting)
        try journal.recordOrderReport(try feed.broker.submitNow(resting, clientOrderID: "r-1"))
        let buy = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000))
        try journal.recordOrderIntent(clientOrderID: "r-2", cycle: 0, time: bars.timestamps[0], request: buy)
        try journal.recordOrderReport(try feed.broker.submitNow(buy, clientOrderID: "r-2"))
        _ = try await feed.next()
        #expect(feed.broker.accountNow().positions.first?.quantity == 1_000)

        let alerts = AlertRecorder()
        let ks = try killSwitch(.init(flattenOnTrigger: true), alerts: alerts)
        try ks.trigger("test halt", at: bars.timestamps[1])
        let mode = ProductionMode(broker: feed.broker, killSwitch: ks, validator: Self.permissive, feed: feed, journal: journal,
                                  alerts: alerts)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: SyntheticPredictions()),
                                 mode: mode, journal: journal, initialBalance: 10_000)
        try await robot.start()
        let broker = feed.broker.snapshot
        #expect(broker.orders.count == 3, "the two orders placed before, and the flattening one")
        #expect(feed.broker.accountNow().positions.isEmpty)
        #expect(try feed.broker.orderNow(clientOrderID: "r-1").status == .cancelled)
        let flatten = "ks-\(bars.timestamps[1])-EURUSD"
        #expect(try feed.broker.orderNow(clientOrderID: flatten).status == .filled)
        #expect(try journal.orderEvents(clientOrderID: flatten).first?.event == "intent")
        #expect(try journal.orderEvents(clientOrderID: "r-1").map(\.event).contains("cancel_requested"))
        let refused = try journal.orders().filter { $0.cycle >= 0 && $0.clientOrderID.hasPrefix("r-") && $0.clientOrderID.count > 3 }
        #expect(!refused.isEmpty)
        for o in refused {
            #expect(o.status == "rejected")
            #expect(o.reason?.contains("kill switch active") == true)
        }
        #expect(ks.state.sweptAt != nil)
        #expect(alerts.alerts.contains { $0.key == "kill-switch-sweep" && $0.message == "1 open orders cancelled, 1 positions flattened" })
    }

    /// Connectivity failures and repeated rejections trip the kill switch through the production venue.
    @Test func connectivityLossAndRejectionsTripTheKillSwitch() async throws {
        let bars = try RobotFixture.eurusd(bars: 50)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("net.sqlite"), durability: .process)
        let ks = try killSwitch(.init(maxConnectivityFailures: 3))
        let broker = FailingBroker(feed.broker, error: .connectivity("timed out"))
        let mode = ProductionMode(broker: broker, killSwitch: ks, validator: Self.permissive, feed: feed, journal: journal)
        _ = try await mode.nextCycle()
        broker.failing = true
        let order = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000))
        for k in 0..<3 {
            await #expect(throws: VenueError.connectivity("timed out")) {
                try await mode.venue.submit(order, clientOrderID: "c-\(k)")
            }
        }
        #expect(ks.isActive && ks.state.trigger == .connectivityLoss)
        await #expect(throws: VenueError.self) { try await mode.venue.submit(order, clientOrderID: "c-9") }

        let ks2 = try killSwitch(.init(maxConsecutiveRejections: 2))
        let mode2 = ProductionMode(broker: feed.broker, killSwitch: ks2, validator: Self.permissive, feed: feed,
                                   journal: try RobotJournal(path: temporaryPath("rej.sqlite"), durability: .process))
        _ = try await mode2.nextCycle()
        let foreign = OrderRequest(symbol: "GBPUSD", side: .buy, size: .units(1_000))
        for k in 0..<2 {
            do { _ = try await mode2.venue.submit(foreign, clientOrderID: "f-\(k)"); Issue.record("not refused") } catch {
                #expect("\(error)".contains("order validation, tradable: GBPUSD is not a tradable symbol"))
            }
        }
        #expect(ks2.isActive && ks2.state.trigger == .repeatedRejections)
        #expect(feed.broker.snapshot.orders.isEmpty)
    }
}

extension ProductionModeTests {
    /// A live robot does not stop when the broker is briefly unreachable: those cycles are journaled as failed with
    /// their reason and trading goes on at the next bar close; without the option the failure stops the robot.
    @Test func cyclesTheBrokerFailsAreJournaledAndTheRobotGoesOn() async throws {
        let bars = try RobotFixture.eurusd(bars: 60)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("outage.sqlite"), durability: .process)
        let broker = FailingBroker(feed.broker, error: .rateLimited(retryAfterMs: 1_000))
        let mode = ProductionMode(broker: broker, killSwitch: try killSwitch(), validator: Self.permissive, feed: feed, journal: journal)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: SyntheticPredictions()),
                                 mode: mode, journal: journal, initialBalance: 10_000)
        let count = Counter()
        let status = try await robot.start(maxCycles: 12, continueAfterBrokerFailures: true) { _, _ in
            let n = count.next()
            broker.failing = (4...5).contains(n)          // the 6th and 7th cycles meet an outage
        }
        #expect(status.cycles == 10, "\(status.cycles)")
        let problems = try journal.problems()
        #expect(problems.count == 2 && problems.allSatisfy { $0.text.contains("abandoned") && $0.text.contains("rate limiting") }, "\(problems)")

        let journal2 = try RobotJournal(path: temporaryPath("outage2.sqlite"), durability: .process)
        let feed2 = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let down = FailingBroker(feed2.broker, error: .connectivity("down"))
        down.failing = true
        let robot2 = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: SyntheticPredictions()),
                                  mode: ProductionMode(broker: down, killSwitch: try killSwitch(), validator: Self.permissive,
                                                       feed: feed2, journal: journal2),
                                  journal: journal2, initialBalance: 10_000)
        await #expect(throws: RobotError.self) { try await robot2.start(maxCycles: 3) }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = -1
    func next() -> Int { lock.withLock { n += 1; return n } }
}

/// A broker that acknowledges a different quantity than the one sent.
final class MisacknowledgingBroker: Venue, @unchecked Sendable {
    let name = "misacknowledging"
    let inner: SimulatedVenue
    init(_ inner: SimulatedVenue) { self.inner = inner }
    func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        var r = try await inner.submit(request, clientOrderID: clientOrderID)
        r.quantity = (r.quantity ?? 0) * 10
        return r
    }
    func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport { try await inner.cancel(clientOrderID: clientOrderID) }
    func order(clientOrderID: String) async throws(VenueError) -> OrderReport { try await inner.order(clientOrderID: clientOrderID) }
    func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] { try await inner.orders(openOnly: openOnly) }
    func fills(since: Int64) async throws(VenueError) -> [FillReport] { try await inner.fills(since: since) }
    func account() async throws(VenueError) -> AccountReport { try await inner.account() }
}

@Suite(.serialized) struct ProductionRecoveryTests {
    /// Stopped and restarted four times against the same broker (which keeps its state, as a real one does), the
    /// production robot sends the same orders as one uninterrupted simulation: none lost, none sent twice; every
    /// restart's reconciliation is clean.
    @Test func aRestartedProductionRobotNeitherLosesNorDuplicatesOrders() async throws {
        let bars = try RobotFixture.eurusd(bars: 480)
        let source = SyntheticPredictions()
        let simMode = SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models)
        try await TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: simMode,
                               journal: try RobotJournal(path: temporaryPath("whole.sqlite"), durability: .process),
                               initialBalance: 10_000).start()

        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let path = temporaryPath("parts.sqlite")
        let ksPath = temporaryPath("ks.json")
        var reports: [ReconciliationReport] = []
        for _ in 0..<4 {
            let journal = try RobotJournal(path: path, durability: .process)
            let ks = try KillSwitch(path: ksPath, authorization: try .fromEnvironment("T", environment: ["T": ProductionModeTests.token]),
                                    alerts: AlertRecorder())
            let mode = ProductionMode(broker: feed.broker, killSwitch: ks, validator: ProductionModeTests.permissive, feed: feed,
                                      journal: journal, alerts: AlertRecorder())
            try await TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: source), mode: mode,
                                   journal: journal, initialBalance: 10_000).start(maxCycles: 120)
            reports.append(try #require(mode.startupReport))
        }
        for r in reports { #expect(r.isClean, "\(r.differences.map(\.message))") }
        let a = simMode.simulatedVenue.snapshot, b = feed.broker.snapshot
        #expect(a.orders.map(\.request) == b.orders.map(\.request))
        #expect(a.fills == b.fills && a.fills.count > 10)
        #expect(a.equity == b.equity)
        let ids = try RobotJournal(path: path).orders().map(\.clientOrderID)
        #expect(Set(ids).count == ids.count)
    }

    /// An acknowledgement that does not match the order sent trips the kill switch and fails the submit.
    @Test func aMismatchedAcknowledgementTripsTheKillSwitch() async throws {
        let bars = try RobotFixture.eurusd(bars: 20)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 100_000, models: RobotFixture.models))
        let ks = try KillSwitch(path: temporaryPath("ks.json"),
                                authorization: try .fromEnvironment("T", environment: ["T": ProductionModeTests.token]),
                                alerts: AlertRecorder())
        let mode = ProductionMode(broker: MisacknowledgingBroker(feed.broker), killSwitch: ks, validator: ProductionModeTests.permissive,
                                  feed: feed, journal: try RobotJournal(path: temporaryPath("m.sqlite"), durability: .process))
        _ = try await mode.nextCycle()
        do {
            _ = try await mode.venue.submit(OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000)), clientOrderID: "m-1")
            Issue.record("a mismatched acknowledgement was accepted")
        } catch {
            #expect(error == .invalidResponse("acknowledgement of m-1 does not match the order: quantity 10000.0, sent 1000.0"))
        }
        #expect(ks.isActive && ks.state.trigger == .brokerMismatch)
    }
}

@Suite struct StoredBarFeedTests {
    /// Closed bars only, one view per close, each bar seen first by `onClose`; `skip` resumes after a close; the
    /// accelerated clock paces an hourly bar at 3.6 ms at 1 000 000×.
    @Test func theStoredFeedDeliversClosesInOrderAndResumes() async throws {
        let bars = try RobotFixture.eurusd(bars: 40)
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var indices: [Int] = []
        }
        let seen = Seen()
        let clock = MarketSimulator(series: [bars])
        func close(_ i: Int) -> Int64 { clock.closeTime(series: 0, bar: i) }
        let feed = StoredBarFeed(series: [bars], start: close(10), acceleration: 1_000_000) { symbol, _, i in
            #expect(symbol == "EURUSD")
            seen.lock.withLock { seen.indices.append(i) }
        }
        let first = try #require(try await feed.next())
        #expect(first.bars(0).count == 11 && first.close(0) == bars.close[10] && first.time == close(10))
        try await feed.skip(through: close(20))
        let next = try #require(try await feed.next())
        #expect(next.close(0) == bars.close[21])
        var count = 2
        while try await feed.next() != nil { count += 1 }
        #expect(count == 20, "bars 10, 21...39 (11...20 skipped)")
        #expect(seen.indices.first == 10 && seen.indices == Array(10..<40))
        await #expect(throws: RobotError.self) { try await feed.skip(through: .max) }
    }
}

@Suite struct KillSwitchSweepTests {
    /// The broker fails while the kill switch sweeps: the robot goes on (no throw), the sweep is alerted as
    /// incomplete and done at a later bar once the broker answers again.
    @Test func aSweepTheBrokerRefusesIsRetriedAtTheNextBar() async throws {
        let bars = try RobotFixture.eurusd(bars: 30)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let broker = FailingBroker(feed.broker, error: .connectivity("down"))
        let journal = try RobotJournal(path: temporaryPath("sweep.sqlite"), durability: .process)
        let alerts = AlertRecorder()
        let ks = try KillSwitch(path: temporaryPath("ks.json"), limits: .init(flattenOnTrigger: true),
                                authorization: try .fromEnvironment("T", environment: ["T": ProductionModeTests.token]),
                                alerts: alerts)
        let mode = ProductionMode(broker: broker, killSwitch: ks, validator: ProductionModeTests.permissive, feed: feed,
                                  journal: journal, alerts: alerts)
        _ = try await mode.nextCycle()
        let buy = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000))
        try journal.recordOrderIntent(clientOrderID: "r-1", cycle: 0, time: 0, request: buy)
        try journal.recordOrderReport(try await mode.venue.submit(buy, clientOrderID: "r-1"))
        _ = try await mode.nextCycle()
        try ks.trigger("halt", at: 5)
        broker.failing = true
        _ = try await mode.nextCycle()
        #expect(ks.state.sweptAt == nil)
        #expect(alerts.alerts.last?.level == .critical && alerts.alerts.last?.title.contains("incomplete") == true)
        broker.failing = false
        _ = try await mode.nextCycle()
        _ = try await mode.nextCycle()
        #expect(ks.state.sweptAt != nil)
        #expect(feed.broker.accountNow().positions.isEmpty)
        #expect(try feed.broker.orderNow(clientOrderID: "ks-5-EURUSD").status == .filled)
    }
}

@Suite struct ReconciliationReportTests {
    /// The report survives the journal's JSON (what `aitrader robot status` reads back).
    @Test func theJournaledReportDecodes() throws {
        let report = ReconciliationReport.compare(
            journalOrders: [], journalFills: [],
            brokerOrders: [OrderReport(clientOrderID: "x", venueOrderID: "1", symbol: "EURUSD", side: .buy, status: .filled,
                                       quantity: 5, filledQuantity: 5, averageFillPrice: 1.1, time: 3)],
            brokerFills: [], brokerPositions: [PositionReport(symbol: "EURUSD", quantity: 5, averagePrice: 1.1)], time: 9)
        #expect(report.differences.map(\.kind) == [.orderUnknownToJournal, .positionDiffers])
        let text = try RobotJSON.encoder.encode(report)
        #expect(try RobotJSON.decoder.decode(ReconciliationReport.self, from: text) == report)
    }
}
