import Foundation
import Trading

/// Orders between the robot and its venue: a client order id on every order (`<session tag>-<local id>`), the
/// intent journaled before the order is sent, the venue's acknowledgement and every later state (accepted →
/// partially filled → filled, cancelled, rejected, expired — `OrderStatus`) journaled as it is reported, bracket
/// children (`<id>-sl`, `<id>-tp`, one-cancels-other at the venue) adopted when the venue creates them, cancels
/// journaled before they are sent, and reconciliation with the venue after a restart.
///
///     let manager = OrderManager(venue: mode.venue, journal: journal, sessionTag: "r")
///     try await manager.submit(request, localID: 12, cycle: seq, time: barClose)    // journal, then send
///     let fills = try await manager.sync()                                          // new fills, order states
///
/// Failures of the venue are counted (`consecutiveFailures`, the broker-connectivity breaker's input) and journaled
/// as rejections of the order concerned; a failure of the journal stops the robot (nothing is sent unjournaled).
public actor OrderManager {
    public let venue: any Venue
    public let journal: RobotJournal
    public let sessionTag: String
    /// Orders the journal holds as working: their reports are fetched at every sync.
    public private(set) var working: Set<String> = []
    /// Consecutive failed venue calls (reset by a successful one).
    public private(set) var consecutiveFailures = 0
    private var fillsSeen = 0
    /// Fills are asked for from here on (UTC ms): the newest fill seen less `fillLag`, so a broker that books an
    /// execution a little after a later one is still heard; the journal drops what it already holds (by fill id).
    private var fillCursor: Int64 = .min
    /// Bracket parents whose exits (`-sl`, `-tp`) are not journaled yet: checked at each sync once the parent has
    /// filled, so exits that the venue opened and finished between two syncs (or while the robot was down) are
    /// journaled too.
    private var pendingChildren: [String: [String]] = [:]
    /// How far behind the newest fill seen each sync looks again.
    public static let fillLag: Int64 = 10 * 60_000

    public init(venue: any Venue, journal: RobotJournal, sessionTag: String) {
        self.venue = venue
        self.journal = journal
        self.sessionTag = sessionTag
    }

    public func clientOrderID(localID: Int) -> String { "\(sessionTag)-\(localID)" }

    /// Fills booked by the venue so far.
    public var fillCount: Int { fillsSeen }

    /// Sends a cycle's order commands: every intent (and cancel request) is journaled first, in one transaction,
    /// then the commands go to the venue in order, then every answer is journaled in one transaction. An id the
    /// journal already holds as sent (a cycle re-run after a crash whose order the venue has) is not sent again.
    public func execute(_ commands: [OrderCommand], cycle: Int64, time: Int64) async throws(RobotError) {
        guard !commands.isEmpty else { return }
        let toSend: [OrderCommand] = try journal.batch { () throws(RobotError) in
            var out: [OrderCommand] = []
            for c in commands {
                switch c {
                case .submit(let localID, let request):
                    if try journal.recordOrderIntent(clientOrderID: clientOrderID(localID: localID), cycle: cycle, time: time,
                                                     request: request) { out.append(c) }
                case .cancel(let localID):
                    try journal.recordCancelIntent(clientOrderID: clientOrderID(localID: localID), time: time)
                    out.append(c)
                }
            }
            return out
        }
        var reports: [OrderReport] = []
        for c in toSend {
            switch c {
            case .submit(let localID, let request):
                let id = clientOrderID(localID: localID)
                let outcome: Result<OrderReport, VenueError>
                do { outcome = .success(try await venue.submit(request, clientOrderID: id)) } catch { outcome = .failure(error) }
                switch outcome {
                case .success(let report):
                    consecutiveFailures = 0
                    reports.append(report)
                case .failure(.duplicateClientOrderID):
                    // The venue has it (sent before a crash, acknowledged after the journal's last word): adopt it.
                    // If it does not (the id was refused as used but never reached the venue), it is a rejection.
                    do {
                        reports.append(try await venue.order(clientOrderID: id))
                        consecutiveFailures = 0
                    } catch {
                        if error.isTransient { consecutiveFailures += 1 }
                        reports.append(OrderReport(clientOrderID: id, venueOrderID: "", symbol: request.symbol, side: request.side,
                                                   status: .rejected, quantity: nil, filledQuantity: 0, averageFillPrice: 0,
                                                   reason: "client order id already used, and the venue has no such order: \(error)",
                                                   time: time))
                    }
                case .failure(let error):
                    if error.isTransient { consecutiveFailures += 1 }
                    reports.append(OrderReport(clientOrderID: id, venueOrderID: "", symbol: request.symbol, side: request.side,
                                               status: .rejected, quantity: nil, filledQuantity: 0, averageFillPrice: 0,
                                               reason: "\(error)", time: time))
                }
            case .cancel(let localID):
                let id = clientOrderID(localID: localID)
                let outcome: Result<OrderReport, VenueError>
                do { outcome = .success(try await venue.cancel(clientOrderID: id)) } catch { outcome = .failure(error) }
                switch outcome {
                case .success(let report):
                    consecutiveFailures = 0
                    reports.append(report)
                case .failure(let error):
                    if error.isTransient { consecutiveFailures += 1 }
                }
            }
        }
        try journal.batch { () throws(RobotError) in
            for r in reports { try journal.recordOrderReport(r) }
        }
        for r in reports {
            if r.status.isTerminal { working.remove(r.clientOrderID) } else { working.insert(r.clientOrderID) }
        }
        for c in toSend {
            if case .submit(let localID, let request) = c { noteBracket(clientOrderID(localID: localID), request) }
        }
    }

    private func noteBracket(_ id: String, _ request: OrderRequest) {
        var children: [String] = []
        if request.stopLoss != nil { children.append(id + "-sl") }
        if request.takeProfit != nil { children.append(id + "-tp") }
        if !children.isEmpty { pendingChildren[id] = children }
    }

    /// The exits of filled bracket parents that the journal does not hold yet and the open-order list did not show
    /// (`known`: they ended between two looks), as the venue reports them.
    private func missingChildren(parents: [OrderReport], known: Set<String>) async throws(RobotError) -> [OrderReport] {
        var out: [OrderReport] = []
        for p in parents where p.filledQuantity > 0 {
            guard let children = pendingChildren[p.clientOrderID] else { continue }
            for child in children where !working.contains(child) && !known.contains(child) {
                do {
                    out.append(try await venue.order(clientOrderID: child))
                } catch .unknownOrder {
                    continue
                } catch {
                    if error.isTransient { consecutiveFailures += 1 }
                    throw .venue(error)
                }
            }
            if p.status == .filled { pendingChildren[p.clientOrderID] = nil }
        }
        return out
    }

    /// One order: `execute` of a single submit.
    public func submit(_ request: OrderRequest, localID: Int, cycle: Int64, time: Int64) async throws(RobotError) {
        try await execute([.submit(id: localID, request)], cycle: cycle, time: time)
    }

    /// One cancel: `execute` of a single cancel (a finished order stays finished).
    public func cancel(localID: Int, time: Int64) async throws(RobotError) {
        try await execute([.cancel(id: localID)], cycle: -1, time: time)
    }

    /// New fills (journaled; returned for the positions), the venue's report of every working order, and bracket
    /// children the venue created since the last sync. Returns the new fills and the open orders. Fills are read
    /// from a cursor (`fillLag` behind the newest seen), not from the start: a live account's history grows.
    public func sync() async throws(RobotError) -> (fills: [FillReport], open: [OrderReport]) {
        let since = fillCursor
        let all = try await call { () async throws(VenueError) in try await self.venue.fills(since: since) }
        var reports: [OrderReport] = []
        for id in working.sorted() {
            reports.append(try await call { () async throws(VenueError) in try await self.venue.order(clientOrderID: id) })
        }
        let open = try await openOrders()
        var newcomers = open.filter { !working.contains($0.clientOrderID) }
        let adopted = Set(newcomers.map(\.clientOrderID))
        newcomers += try await missingChildren(parents: reports, known: adopted)
        let fresh: [FillReport] = try journal.batch { () throws(RobotError) in
            var fresh: [FillReport] = []
            for f in all where try journal.recordFill(f) { fresh.append(f) }
            for r in reports { try journal.recordOrderReport(r) }
            for r in newcomers { try journal.recordOrderReportIfKnown(r) }
            return fresh
        }
        fillsSeen += fresh.count
        advanceCursor(all)
        for r in reports where r.status.isTerminal { working.remove(r.clientOrderID) }
        for r in newcomers where !r.status.isTerminal { working.insert(r.clientOrderID) }
        return (fresh, open)
    }

    /// The venue's account (counted like every venue call).
    public func account() async throws(RobotError) -> AccountReport {
        try await call { () async throws(VenueError) in try await self.venue.account() }
    }

    /// The venue's working orders, oldest first.
    public func openOrders() async throws(RobotError) -> [OrderReport] {
        try await call { () async throws(VenueError) in try await self.venue.orders(openOnly: true) }
    }

    /// After a restart: journaled orders the venue knows take its report; those it does not have are marked
    /// abandoned (the interrupted cycle, run again, issues them anew under the same ids). Fills the venue booked
    /// are journaled (re-deliveries ignored).
    public func reconcile() async throws(RobotError) {
        let reports = try await call { () async throws(VenueError) in try await self.venue.orders(openOnly: false) }
        let byID = Dictionary(reports.map { ($0.clientOrderID, $0) }, uniquingKeysWith: { a, _ in a })
        working = []
        pendingChildren = [:]
        let journaled = try journal.orders()
        let known = Set(journaled.map(\.clientOrderID))
        for o in journaled where o.cycle >= 0 {
            // A bracket's exits the journal never saw (opened and finished while the robot was down): adopted now.
            for suffix in ["-sl", "-tp"] where !known.contains(o.clientOrderID + suffix) {
                if let child = byID[o.clientOrderID + suffix] {
                    try journal.recordOrderReportIfKnown(child)
                    if !child.status.isTerminal { working.insert(child.clientOrderID) }
                }
            }
            if !o.isTerminal || o.status == OrderStatus.filled.rawValue { noteBracket(o.clientOrderID, o.request) }
        }
        for o in journaled where !o.isTerminal {
            if let r = byID[o.clientOrderID] {
                try journal.recordOrderReport(r)
                if !r.status.isTerminal { working.insert(o.clientOrderID) }
            } else {
                // Never received (an intent the crash cut off), or lost with a simulated venue that is rebuilt from
                // completed cycles only: the venue does not have it. If its cycle was the interrupted one, that cycle
                // runs again and issues it anew under the same id; otherwise it stays abandoned (journaled).
                try journal.abandonOrder(clientOrderID: o.clientOrderID, time: o.time,
                                         reason: o.isPendingSend ? "not at the venue after a restart (never sent)"
                                             : "acknowledged before a restart but unknown to the venue now")
            }
        }
        let fills = try await call { () async throws(VenueError) in try await self.venue.fills(since: .min) }
        for f in fills { try journal.recordFill(f) }
        fillsSeen = fills.count
        advanceCursor(fills)
    }

    private func advanceCursor(_ fills: [FillReport]) {
        guard let newest = fills.map(\.time).max() else { return }
        fillCursor = max(fillCursor, newest - Self.fillLag)
    }

    /// A venue call: failures counted and turned into the robot's error.
    func call<T: Sendable>(_ body: @Sendable () async throws(VenueError) -> T) async throws(RobotError) -> T {
        do {
            let v = try await body()
            consecutiveFailures = 0
            return v
        } catch {
            if error.isTransient { consecutiveFailures += 1 }
            throw .venue(error)
        }
    }
}
