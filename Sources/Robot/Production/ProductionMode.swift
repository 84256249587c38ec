import Common
import Foundation
import MarketData
import Simulation
import Trading

/// The robot against a real broker (paper or live): bars from a `BarFeed`, orders through a `ProductionVenue`
/// (kill switch → validation → submit → verified acknowledgement → position reconciled), and before the first
/// cycle a comparison of the journal with the broker's orders, fills and positions (`startupReport`), every
/// difference alerted and journaled (session key `reconciliation`).
///
/// While the kill switch is active the robot keeps cycling (marks, journal, status) but every order is refused;
/// the first cycle that sees a trip carries out its consequences: journaled cancels of every open order, and with
/// `flattenOnTrigger` journaled market orders closing every position (client ids `ks-<trip time>-<symbol>`).
///
///     let mode = try ProductionMode(broker: alpaca, killSwitch: ks, validator: validator, feed: feed,
///                                   journal: journal, alerts: monitor)
///     let robot = TradingRobot(strategy: strategy, mode: mode, journal: journal, initialBalance: 0)
///     try await robot.start()
public final class ProductionMode: ExecutionMode, @unchecked Sendable {
    /// What a start-up difference does besides being reported.
    public enum OnDifference: Sendable, Equatable {
        case report
        /// Trips the kill switch: no order until an operator has looked and reset it.
        case tripKillSwitch
    }

    public let name: String
    public let productionVenue: ProductionVenue
    public var venue: any Venue { productionVenue }
    public var broker: any Venue { productionVenue.broker }
    public let killSwitch: KillSwitch
    public let feed: any BarFeed
    public let journal: RobotJournal
    public let onDifference: OnDifference
    private let alerts: any AlertSink
    private let lock = NSLock()
    private var report: ReconciliationReport?

    /// `sessionDay` / `marketOpen` per symbol come from `calendars` (absent: UTC days, always open).
    public init(name: String = "production", broker: any Venue, killSwitch: KillSwitch, validator: OrderValidator,
                feed: any BarFeed, journal: RobotJournal, calendars: [String: any TradingCalendar] = [:],
                onDifference: OnDifference = .report, alerts: any AlertSink = LogAlertSink()) {
        self.name = name
        self.killSwitch = killSwitch
        self.feed = feed
        self.journal = journal
        self.onDifference = onDifference
        self.alerts = alerts
        productionVenue = ProductionVenue(
            broker: broker, killSwitch: killSwitch, validator: validator,
            sessionDay: { s, t in calendars[s]?.sessionDay(at: t) ?? UTCTime.floorDiv(t, UTCTime.msPerDay) },
            marketOpen: { s, t in calendars[s]?.isOpen(at: t) ?? true })
    }

    /// The start-up comparison of the journal with the broker (nil before the first cycle).
    public var startupReport: ReconciliationReport? { lock.withLock { report } }

    public func nextCycle() async throws(RobotError) -> MarketView? {
        if startupReport == nil { try await reconcileAtStart(time: 0) }
        guard let view = try await feed.next() else { return nil }
        var quotes: [String: Double] = [:]
        for s in view.updated { if let c = view.close(s) { quotes[view.symbols[s]] = c } }
        productionVenue.setMarket(time: view.time, quotes: quotes)
        if killSwitch.isActive, killSwitch.state.sweptAt == nil { try await sweep(at: view.time) }
        return view
    }

    /// A broker keeps its own state: the journal is compared with it (before the order manager adopts the
    /// broker's view), then the feed moves past the last completed cycle.
    public func restore(through time: Int64, commands: [JournaledCommand]) async throws(RobotError) {
        try await reconcileAtStart(time: time)
        try await feed.skip(through: time)
    }

    /// Compares the journal with the broker and reports every difference (alerts, log, journal).
    func reconcileAtStart(time: Int64) async throws(RobotError) {
        let orders = try await brokerCall { () async throws(VenueError) in try await self.broker.orders(openOnly: false) }
        let fills = try await brokerCall { () async throws(VenueError) in try await self.broker.fills(since: .min) }
        let account = try await brokerCall { () async throws(VenueError) in try await self.broker.account() }
        let journaled = try journal.orders()
        let result = ReconciliationReport.compare(journalOrders: journaled, journalFills: try journal.fills(),
                                                  brokerOrders: orders, brokerFills: fills,
                                                  brokerPositions: account.positions, time: time)
        // Ids in use: the broker's. Journaled ids the broker does not have never reached it (recovery abandons
        // them, and the re-run cycle may send them again under the same id — the broker refuses a real duplicate).
        productionVenue.noteUsed(orders.map(\.clientOrderID))
        do {
            try journal.setSession("reconciliation", String(decoding: try RobotJSON.encoder.encode(result), as: UTF8.self))
        } catch let e as RobotError { throw e } catch {
            throw .journal(path: journal.path, message: "cannot encode the reconciliation report: \(error)")
        }
        lock.withLock { report = result }
        if result.isClean {
            alerts.send(RobotAlert(level: .info, key: "reconciliation", title: "Start-up reconciliation",
                                   message: "journal and broker agree (\(journaled.count) orders, \(fills.count) fills)", time: time))
            return
        }
        alerts.send(RobotAlert(
            level: .warning, key: "reconciliation", title: "Start-up reconciliation: \(result.differences.count) differences",
            message: result.differences.map { "\($0.kind.rawValue): \($0.message)" }.joined(separator: "\n"), time: time))
        if onDifference == .tripKillSwitch {
            do {
                try killSwitch.trigger("\(result.differences.count) differences between the journal and the broker at start-up",
                                       kind: .reconciliation, at: time)
            } catch { throw .configuration("\(error)") }
        }
    }

    /// The kill switch's consequences: cancel every open order (journaled first), flatten when configured. A broker
    /// failure does not stop the robot: it is alerted, and the sweep is tried again at the next bar close until it
    /// has gone through (a journal failure does stop it — nothing is sent unjournaled).
    func sweep(at time: Int64) async throws(RobotError) {
        var problems: [String] = []
        var cancelled = 0, flattened = 0
        do {
            for o in try await broker.orders(openOnly: true) {
                try journal.recordCancelIntent(clientOrderID: o.clientOrderID, time: time)
                do {
                    try journal.recordOrderReportIfKnown(try await broker.cancel(clientOrderID: o.clientOrderID))
                    cancelled += 1
                } catch let e as RobotError { throw e } catch { problems.append("cancel \(o.clientOrderID): \(error)") }
            }
            if killSwitch.limits.flattenOnTrigger {
                let since = killSwitch.state.since ?? time
                for p in try await broker.account().positions where p.quantity != 0 {
                    let request = OrderRequest(symbol: p.symbol, side: p.quantity > 0 ? .sell : .buy, size: .units(abs(p.quantity)),
                                               tag: "kill-switch flatten")
                    let id = "ks-\(since)-\(p.symbol)"
                    if try journal.recordOrderIntent(clientOrderID: id, cycle: -1, time: time, request: request) {
                        do {
                            try journal.recordOrderReport(try await broker.submit(request, clientOrderID: id))
                            flattened += 1
                        } catch let e as RobotError { throw e } catch { problems.append("flatten \(p.symbol): \(error)") }
                    } else {
                        // Sent by an earlier attempt: its state is the broker's.
                        do { try journal.recordOrderReport(try await broker.order(clientOrderID: id)) } catch let e as RobotError {
                            throw e
                        } catch VenueError.unknownOrder {
                            // Journaled but never received: send it now.
                            do {
                                try journal.recordOrderReport(try await broker.submit(request, clientOrderID: id))
                                flattened += 1
                            } catch let e as RobotError { throw e } catch { problems.append("flatten \(p.symbol): \(error)") }
                        } catch { problems.append("flatten \(p.symbol): \(error)") }
                    }
                }
            }
        } catch let e as RobotError { throw e } catch { problems.append("\(error)") }
        if problems.isEmpty {
            do { try killSwitch.markSwept(at: time) } catch { throw .configuration("\(error)") }
        }
        alerts.send(RobotAlert(
            level: problems.isEmpty ? .warning : .critical, key: "kill-switch-sweep",
            title: problems.isEmpty ? "Kill switch: orders cancelled" : "Kill switch: sweep incomplete, retried at the next bar",
            message: "\(cancelled) open orders cancelled, \(flattened) positions flattened"
                + (problems.isEmpty ? "" : "; failed: " + problems.joined(separator: "; ")), time: time))
    }

    private func brokerCall<T: Sendable>(_ body: @Sendable () async throws(VenueError) -> T) async throws(RobotError) -> T {
        do { return try await body() } catch { throw .venue(error) }
    }
}
