import Common
import Foundation
import MarketData
import Risk
import Trading

/// The trading robot: one actor that runs `RobotStrategy`'s cycle at every bar close the execution mode delivers,
/// journals every decision before acting on it, sends orders to the mode's venue and keeps its portfolio from the
/// venue's fills and account. The same code in simulation, paper and live — only the `ExecutionMode` changes.
///
///     let robot = TradingRobot(strategy: strategy, mode: SimulationMode(...), journal: try RobotJournal(path: p))
///     let final = try await robot.run { status in print(status.equity) }
///     await robot.stop()          // graceful: the current cycle finishes and is journaled
///
/// Crash safety: each cycle is `begin → venue sync → decide → journal signals and order intents → send → journal
/// acknowledgements → complete (with the robot's state)`. A robot killed anywhere (kill -9) and started again on
/// the same journal restores the state of the last completed cycle, lets the mode catch up (a simulation rebuilds
/// its venue from the journaled commands), reconciles journaled orders with the venue (acknowledged ones are
/// adopted; intents the venue never received are marked abandoned) and re-runs the interrupted cycle, which
/// decides the same orders under the same client order ids — no order is lost or sent twice.
public actor TradingRobot {
    public let mode: any ExecutionMode
    public let journal: RobotJournal
    /// Prefix of every client order id (`<tag>-<local id>`).
    public let sessionTag: String
    private var strategy: RobotStrategy
    private var portfolio: Portfolio
    private var stopRequested = false
    private var fillsSeen = 0
    /// Client order ids the journal holds as working (their reports are fetched every cycle).
    private var working: Set<String> = []
    private var brokerFailures = 0
    private var latencies: [Double] = []
    private var current: RobotStatus
    /// Wall clock for `dataAge` in live modes (nil: data age 0, a simulation's own clock).
    private let wallClock: (@Sendable () -> Int64)?

    public init(strategy: RobotStrategy, mode: any ExecutionMode, journal: RobotJournal, sessionTag: String = "r",
                initialBalance: Double, wallClock: (@Sendable () -> Int64)? = nil) {
        self.strategy = strategy
        self.mode = mode
        self.journal = journal
        self.sessionTag = sessionTag
        self.wallClock = wallClock
        var p = Portfolio(balance: initialBalance)
        for s in strategy.settings.symbols { _ = p.slot(for: s) }
        portfolio = p
        current = RobotStatus(mode: mode.name, symbols: strategy.settings.symbols)
    }

    /// Asks the robot to stop after the cycle in progress.
    public func stop() { stopRequested = true }

    public func status() -> RobotStatus { current }

    /// The strategy's state (for tests and reports).
    public func state() -> RobotState { strategy.state }

    /// Runs cycles until the mode's data ends, `stop()` is called or `maxCycles` cycles ran in this call.
    @discardableResult
    public func run(maxCycles: Int? = nil, stopWhen: (@Sendable () -> Bool)? = nil,
                    onCycle: (@Sendable (RobotStatus, RobotStrategy.CycleLog) -> Void)? = nil) async throws(RobotError) -> RobotStatus {
        try await recover()
        current.running = true
        var ran = 0
        while !stopRequested, !(stopWhen?() ?? false) {
            if let maxCycles, ran >= maxCycles { break }
            guard let view = try await mode.nextCycle() else { break }
            try await cycle(view)
            ran += 1
            onCycle?(current, strategy.log)
        }
        current.running = false
        try journal.setSession("status", try encode(current))
        return current
    }

    // MARK: Cycle

    func cycle(_ view: MarketView) async throws(RobotError) {
        let started = DispatchTime.now().uptimeNanoseconds
        let time = view.time
        let seq = try journal.beginCycle(time: time)
        try await syncFromVenue(time: time)
        for s in view.updated {
            if let c = view.close(s) { portfolio.mark(view.symbols[s], price: c, at: time) }
        }
        strategy.state.brokerFailures = brokerFailures
        strategy.state.dataAge = wallClock.map { max(0, $0() - time) } ?? 0

        var context = StrategyContext(portfolio: portfolio, nextOrderID: strategy.state.nextOrderID)
        strategy.onBar(view, broker: &context)
        let log = strategy.log
        for signal in log.signals {
            try journal.recordSignal(cycle: seq, time: time, symbol: signal.symbol, signal: signal)
            current.lastSignals[signal.symbol] = "\(signal.action.rawValue): \(signal.reason)"
        }
        for e in log.breakerEvents {
            try journal.recordBreakerEvent(cycle: seq, JournaledBreakerEvent(time: e.time, kind: e.kind.rawValue, tripped: e.tripped,
                                                                            reason: e.reason, until: e.until))
        }
        for r in log.rejections {
            try journal.recordRiskRejection(cycle: seq, time: time, request: r.request, rule: r.rejection.rule,
                                            message: r.rejection.message)
        }
        for command in context.drainOutbox() {
            switch command {
            case .submit(let id, let request):
                try await send(request, clientOrderID: "\(sessionTag)-\(id)", cycle: seq, time: time)
            case .cancel(let id):
                try await cancel(clientOrderID: "\(sessionTag)-\(id)", time: time)
            }
        }
        strategy.state.nextOrderID = context.nextOrderID
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)

        // Positions after the orders went out (fills arrive with the next bar), then the cycle's end.
        try await refreshAccount(time: time)
        for p in portfolio.positions where p.quantity != (strategy.state.lastPositions[p.symbol] ?? 0) {
            try journal.recordPosition(cycle: seq, time: time, symbol: p.symbol, quantity: p.quantity, averagePrice: p.averagePrice)
        }
        try journal.completeCycle(seq, state: try encode(strategy.state))
        updateStatus(time: time)
        try journal.setSession("status", try encode(current))
    }

    /// Journals the intent, then sends; a venue that already has the id (a re-run after a crash) is asked for it.
    private func send(_ request: OrderRequest, clientOrderID: String, cycle: Int64, time: Int64) async throws(RobotError) {
        let fresh = try journal.recordOrderIntent(clientOrderID: clientOrderID, cycle: cycle, time: time, request: request)
        guard fresh else { return }   // acknowledged before the crash: reconciliation has its report
        let outcome: Result<OrderReport, VenueError>
        do { outcome = .success(try await mode.venue.submit(request, clientOrderID: clientOrderID)) } catch { outcome = .failure(error) }
        switch outcome {
        case .success(let report):
            brokerFailures = 0
            try journal.recordOrderReport(report)
            if !report.status.isTerminal { working.insert(clientOrderID) }
        case .failure(.duplicateClientOrderID):
            try await adopt(clientOrderID: clientOrderID)
        case .failure(let error):
            if error.isTransient { brokerFailures += 1 }
            try journal.recordOrderReport(OrderReport(
                clientOrderID: clientOrderID, venueOrderID: "", symbol: request.symbol, side: request.side,
                status: .rejected, quantity: nil, filledQuantity: 0, averageFillPrice: 0, reason: "\(error)", time: time))
        }
    }

    private func cancel(clientOrderID: String, time: Int64) async throws(RobotError) {
        try journal.recordCancelIntent(clientOrderID: clientOrderID, time: time)
        let outcome: Result<OrderReport, VenueError>
        do { outcome = .success(try await mode.venue.cancel(clientOrderID: clientOrderID)) } catch { outcome = .failure(error) }
        switch outcome {
        case .success(let report): try journal.recordOrderReport(report)
        case .failure(let error): if error.isTransient { brokerFailures += 1 }
        }
    }

    private func adopt(clientOrderID: String) async throws(RobotError) {
        let all = try await venueCall { () async throws(VenueError) in try await self.mode.venue.orders(openOnly: false) }
        if let r = all.first(where: { $0.clientOrderID == clientOrderID }) {
            try journal.recordOrderReport(r)
            if !r.status.isTerminal { working.insert(clientOrderID) }
        }
    }

    /// New fills into the journal and the portfolio; the venue's report of every order still working in the
    /// journal (and of bracket children it created); the account.
    private func syncFromVenue(time: Int64) async throws(RobotError) {
        let fills = try await venueCall { () async throws(VenueError) in try await self.mode.venue.fills(since: .min) }
        if fills.count > fillsSeen {
            for f in fills[fillsSeen...] {
                if try journal.recordFill(f) {
                    portfolio.apply(Fill(orderID: -1, symbol: f.symbol, side: f.side, units: f.units, price: f.price,
                                         commission: f.commission, time: f.time, bar: -1))
                }
            }
            fillsSeen = fills.count
        }
        for id in working.sorted() {
            let report = try await venueCall { () async throws(VenueError) in try await self.mode.venue.order(clientOrderID: id) }
            try journal.recordOrderReport(report)
            if report.status.isTerminal { working.remove(id) }
        }
        let open = try await venueCall { () async throws(VenueError) in try await self.mode.venue.orders(openOnly: true) }
        for r in open where !working.contains(r.clientOrderID) {
            try journal.recordOrderReportIfKnown(r)
            working.insert(r.clientOrderID)
        }
        try await refreshAccount(time: time, open: open)
    }

    /// The venue's account replaces the local balance and positions (it is the authority).
    private func refreshAccount(time: Int64, open known: [OrderReport]? = nil) async throws(RobotError) {
        let account = try await venueCall { () async throws(VenueError) in try await self.mode.venue.account() }
        portfolio.reconcile(with: account)
        let open: [OrderReport]
        if let known { open = known } else {
            open = try await venueCall { () async throws(VenueError) in try await self.mode.venue.orders(openOnly: true) }
        }
        portfolio.openOrders = open.enumerated().map { k, r in
            Order(id: k, request: OrderRequest(symbol: r.symbol, side: r.side, size: .units(r.quantity ?? 0)),
                  submittedAt: r.time, activeFrom: r.time)
        }
    }

    private func venueCall<T: Sendable>(_ body: () async throws(VenueError) -> T) async throws(RobotError) -> T {
        do {
            let v = try await body()
            return v
        } catch {
            if error.isTransient { brokerFailures += 1 }
            throw .venue(error)
        }
    }

    private func updateStatus(time: Int64) {
        current.lastCycleTime = time
        current.cycles = strategy.state.cycles
        current.balance = portfolio.balance
        current.equity = portfolio.equity
        current.positions = portfolio.positions.map {
            PositionReport(symbol: $0.symbol, quantity: $0.quantity, averagePrice: $0.averagePrice, mark: $0.mark.isNaN ? nil : $0.mark)
        }
        current.openOrders = portfolio.openOrders.count
        current.ordersSubmitted = strategy.state.ordersSubmitted
        current.ordersRejectedByRisk = strategy.state.ordersRejectedByRisk
        current.fills = fillsSeen
        current.breakers = strategy.state.breakers.reasons
        let sorted = latencies.sorted()
        if !sorted.isEmpty {
            current.latencyMedianMs = sorted[sorted.count / 2]
            current.latencyP99Ms = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }
    }

    private func encode<T: Encodable>(_ value: T) throws(RobotError) -> String {
        do {
            return String(decoding: try RobotJSON.encoder.encode(value), as: UTF8.self)
        } catch {
            throw .journal(path: journal.path, message: "cannot encode: \(error)")
        }
    }

    // MARK: Recovery

    /// Restores the last completed cycle's state, brings the mode there, and reconciles journaled orders.
    func recover() async throws(RobotError) {
        guard let last = try journal.lastCompletedCycle() else { return }
        let state: RobotState
        do { state = try RobotJSON.decoder.decode(RobotState.self, from: Data(last.state.utf8)) } catch {
            throw .journal(path: journal.path, message: "the last cycle's state cannot be read: \(error)")
        }
        strategy.state = state
        try await mode.restore(through: last.time, commands: try journal.commands(through: last.time))
        for o in state.outcomes {
            strategy.source.recordOutcome(symbol: o.symbol, prediction: o.prediction, realizedReturn: o.realizedReturn)
        }
        let reports = try await venueCall { () async throws(VenueError) in try await self.mode.venue.orders(openOnly: false) }
        let byID = Dictionary(reports.map { ($0.clientOrderID, $0) }, uniquingKeysWith: { a, _ in a })
        working = []
        for o in try journal.orders() where !o.isTerminal {
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
        let fills = try await venueCall { () async throws(VenueError) in try await self.mode.venue.fills(since: .min) }
        for f in fills { try journal.recordFill(f) }
        fillsSeen = fills.count
        try await refreshAccount(time: last.time)
        updateStatus(time: last.time)
    }
}
