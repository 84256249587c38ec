import Common
import Foundation
import Trading

/// A broker behind the checks a production order must pass, as the `Venue` the robot's `OrderManager` sends to:
/// kill switch → validation (`OrderValidator`) → submit → verify the broker's acknowledgement → reconcile the
/// position (the account is read back and the kill switch's limits checked). A refused order is thrown as
/// `VenueError.refused` naming the rule, which the order manager journals as the order's rejection — the robot's
/// code is unchanged, and the simulation mode (which does not use this wrapper) stays bit-identical.
///
/// Every broker call's failure is counted (`consecutiveFailures`, the kill switch's connectivity trigger) and every
/// rejection — the validator's or the broker's — (`consecutiveRejections`, its repeated-rejections trigger).
public final class ProductionVenue: Venue, @unchecked Sendable {
    public var name: String { broker.name }
    public let broker: any Venue
    public let killSwitch: KillSwitch
    public let validator: OrderValidator
    private let sessionDay: @Sendable (String, Int64) -> Int64
    private let marketOpen: @Sendable (String, Int64) -> Bool
    private let lock = NSLock()
    private var quotes: [String: Double] = [:]
    private var time: Int64 = 0
    private var used: Set<String> = []
    private var failures = 0
    private var rejections = 0
    private var refusals: [(clientOrderID: String, refusal: OrderValidator.Refusal)] = []

    public init(broker: any Venue, killSwitch: KillSwitch, validator: OrderValidator,
                sessionDay: @escaping @Sendable (String, Int64) -> Int64,
                marketOpen: @escaping @Sendable (String, Int64) -> Bool) {
        self.broker = broker
        self.killSwitch = killSwitch
        self.validator = validator
        self.sessionDay = sessionDay
        self.marketOpen = marketOpen
    }

    /// The decision time and the last quotes (the latest closes), set by the mode at each bar close.
    public func setMarket(time: Int64, quotes: [String: Double]) {
        lock.withLock {
            self.time = time
            self.quotes.merge(quotes) { _, new in new }
        }
    }

    /// Client order ids known before this process sent anything (the journal's and the broker's).
    public func noteUsed(_ ids: some Sequence<String>) { lock.withLock { used.formUnion(ids) } }

    public var consecutiveFailures: Int { lock.withLock { failures } }
    public var consecutiveRejections: Int { lock.withLock { rejections } }
    /// Orders the validator refused in this process, oldest first.
    public var validationRefusals: [(clientOrderID: String, refusal: OrderValidator.Refusal)] { lock.withLock { refusals } }

    // MARK: Venue

    public func submit(_ request: OrderRequest, clientOrderID id: String) async throws(VenueError) -> OrderReport {
        let now = lock.withLock { time }
        if killSwitch.isActive {
            let s = killSwitch.state
            throw .refused("kill switch active since \(s.since.map(UTCTime.iso8601) ?? "?") (\(s.trigger?.rawValue ?? "manual"): \(s.reason ?? ""))")
        }
        let account = try await counted { () async throws(VenueError) in try await self.broker.account() }
        var positions: [String: Double] = [:]
        for p in account.positions { positions[p.symbol, default: 0] += p.quantity }
        let context = lock.withLock {
            OrderValidator.Context(lastQuote: quotes, buyingPower: account.buyingPower, positions: positions,
                                   knownClientOrderIDs: used, marketOpen: { [marketOpen] s in marketOpen(s, now) })
        }
        if let refusal = validator.validate(request, clientOrderID: id, context: context) {
            let n = lock.withLock { () -> Int in
                refusals.append((id, refusal))
                rejections += 1
                return rejections
            }
            try observe(KillSwitch.Observation(consecutiveRejections: n), at: now)
            // A known id is the broker's order (a re-run cycle after a restart): the order manager adopts its state.
            if refusal.rule == OrderValidator.duplicateRule { throw .duplicateClientOrderID(id) }
            throw .refused("order validation, \(refusal)")
        }
        lock.withLock { _ = used.insert(id) }
        let ack = try await counted { () async throws(VenueError) in try await self.broker.submit(request, clientOrderID: id) }
        if let mismatch = Self.mismatch(ack, request, id) {
            try trip("the broker's acknowledgement of \(id) does not match the order: \(mismatch)", kind: .brokerMismatch, at: now)
            throw .invalidResponse("acknowledgement of \(id) does not match the order: \(mismatch)")
        }
        let n = lock.withLock { () -> Int in
            rejections = ack.status == .rejected ? rejections + 1 : 0
            return rejections
        }
        if ack.status != .rejected {
            do { try killSwitch.recordTrade(day: sessionDay(request.symbol, now), at: now) } catch {
                throw .refused("\(error)")
            }
        }
        // Reconcile the position: the broker's account after the order, valued at marks (or entry prices).
        let after = try await counted { () async throws(VenueError) in try await self.broker.account() }
        let gross = after.positions.reduce(0.0) { $0 + abs($1.quantity * ($1.mark ?? $1.averagePrice)) }
        try observe(KillSwitch.Observation(grossPositionValue: gross, consecutiveRejections: n), at: now)
        return ack
    }

    public func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try await counted { () async throws(VenueError) in try await self.broker.cancel(clientOrderID: clientOrderID) }
    }

    public func order(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try await counted { () async throws(VenueError) in try await self.broker.order(clientOrderID: clientOrderID) }
    }

    public func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] {
        try await counted { () async throws(VenueError) in try await self.broker.orders(openOnly: openOnly) }
    }

    public func fills(since: Int64) async throws(VenueError) -> [FillReport] {
        try await counted { () async throws(VenueError) in try await self.broker.fills(since: since) }
    }

    public func account() async throws(VenueError) -> AccountReport {
        try await counted { () async throws(VenueError) in try await self.broker.account() }
    }

    // MARK: Checks

    /// A broker call whose transient failures count towards the connectivity trigger.
    private func counted<T: Sendable>(_ body: @Sendable () async throws(VenueError) -> T) async throws(VenueError) -> T {
        do {
            let value = try await body()
            lock.withLock { failures = 0 }
            return value
        } catch {
            guard error.isTransient else { throw error }
            let (n, now) = lock.withLock { () -> (Int, Int64) in
                failures += 1
                return (failures, time)
            }
            try? observe(KillSwitch.Observation(consecutiveConnectivityFailures: n), at: now)
            throw error
        }
    }

    private func observe(_ o: KillSwitch.Observation, at time: Int64) throws(VenueError) {
        do { try killSwitch.observe(o, at: time) } catch { throw .refused("\(error)") }
    }

    private func trip(_ reason: String, kind: KillSwitch.Trigger, at time: Int64) throws(VenueError) {
        do { try killSwitch.trigger(reason, kind: kind, at: time) } catch { throw .refused("\(error)") }
    }

    /// What differs between the order sent and the broker's acknowledgement (nil: it matches).
    static func mismatch(_ ack: OrderReport, _ r: OrderRequest, _ id: String) -> String? {
        if ack.clientOrderID != id { return "client order id \(ack.clientOrderID)" }
        if ack.symbol != r.symbol { return "symbol \(ack.symbol), sent \(r.symbol)" }
        if ack.side != r.side { return "side \(ack.side.rawValue), sent \(r.side.rawValue)" }
        if case .units(let n) = r.size, let q = ack.quantity, ack.status != .rejected,
           abs(q - n) > 1e-9 * max(1, n) {
            return "quantity \(q), sent \(n)"
        }
        return nil
    }
}
