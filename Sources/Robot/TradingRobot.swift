import Common
import Foundation
import MarketData
import Risk
import Trading

/// The trading robot: one actor that runs `RobotStrategy`'s cycle at every bar close the execution mode delivers,
/// journals every decision before acting on it, sends orders through its `OrderManager` to the mode's venue and
/// keeps positions (`PositionManager`) and the account (`AccountManager`) from the venue's fills and reports. The
/// same code in simulation, paper and live — only the `ExecutionMode` changes.
///
///     let robot = TradingRobot(strategy: strategy, mode: SimulationMode(...), journal: try RobotJournal(path: p),
///                              initialBalance: 10_000)
///     let final = try await robot.start { status, log in print(status.equity) }
///     await robot.stop()          // graceful: the current cycle finishes and is journaled
///
/// Crash safety: each cycle is `begin → venue sync → decide → journal signals and order intents → send → journal
/// acknowledgements → complete (with the robot's state)`. A robot killed anywhere (kill -9) and started again on
/// the same journal restores the state of the last completed cycle, lets the mode catch up (a simulation rebuilds
/// its venue from the journaled commands), reconciles journaled orders with the venue (`OrderManager.reconcile`)
/// and re-runs the interrupted cycle, which decides the same orders under the same client order ids — no order is
/// lost or sent twice.
public actor TradingRobot {
    public let mode: any ExecutionMode
    public let journal: RobotJournal
    public let orders: OrderManager
    private var strategy: RobotStrategy
    private var positions: PositionManager
    private var account = AccountManager()
    private var stopRequested = false
    /// Cycle latencies of this run, kept sorted (a status after every cycle reads its median and p99), and the last.
    private var latencies: [Double] = []
    private var lastLatency: Double?
    private var current: RobotStatus
    /// Wall clock for `dataAge` in live modes (nil: data age 0, a simulation's own clock).
    private let wallClock: (@Sendable () -> Int64)?
    /// Where failed predictions are alerted (the monitor, or the log).
    private let alerts: any AlertSink
    /// Failed prediction calls in a row (for the alerts: the first failure, the recovery).
    private var failedPredictions = 0

    public init(strategy: RobotStrategy, mode: any ExecutionMode, journal: RobotJournal, sessionTag: String = "r",
                initialBalance: Double, wallClock: (@Sendable () -> Int64)? = nil, alerts: any AlertSink = LogAlertSink()) {
        self.strategy = strategy
        self.mode = mode
        self.journal = journal
        self.wallClock = wallClock
        self.alerts = alerts
        orders = OrderManager(venue: mode.venue, journal: journal, sessionTag: sessionTag)
        positions = PositionManager(symbols: strategy.settings.symbols, balance: initialBalance)
        current = RobotStatus(mode: mode.name, symbols: strategy.settings.symbols)
    }

    /// Asks the robot to stop after the cycle in progress.
    public func stop() { stopRequested = true }

    public func status() -> RobotStatus { current }

    /// The strategy's state (for tests and reports).
    public func state() -> RobotState { strategy.state }

    /// Recovers from the journal, then runs cycles until the mode's data ends, `stop()` is called, `stopWhen` says
    /// so or `maxCycles` cycles ran in this call. Returns the status at the end.
    ///
    /// With `continueAfterBrokerFailures` (a live broker), a cycle that a transient broker failure interrupts (the
    /// broker unreachable, a rate-limit storm longer than the client waits) is journaled as failed with its reason and
    /// the robot goes on at the next bar close — the broker-connectivity breaker and the kill switch count such
    /// failures; anything else still stops it.
    @discardableResult
    public func start(maxCycles: Int? = nil, stopWhen: (@Sendable () -> Bool)? = nil, continueAfterBrokerFailures: Bool = false,
                      onCycle: (@Sendable (RobotStatus, RobotStrategy.CycleLog) -> Void)? = nil) async throws(RobotError) -> RobotStatus {
        try await recover()
        current.running = true
        var ran = 0
        while !stopRequested, !(stopWhen?() ?? false) {
            if let maxCycles, ran >= maxCycles { break }
            guard let view = try await mode.nextCycle() else { break }
            do {
                try await cycle(view)
            } catch {
                guard continueAfterBrokerFailures, case .venue(let failure) = error, failure.isTransient else { throw error }
                let reason = "cycle at \(UTCTime.iso8601(view.time)) abandoned: \(failure)"
                try journal.failCycle(time: view.time, reason: reason)
                current.lastProblem = reason
                Log.warning("robot cycle abandoned; going on at the next bar", ["time": UTCTime.iso8601(view.time), "error": "\(failure)"])
            }
            ran += 1
            onCycle?(current, strategy.log)
        }
        current.running = false
        try journal.setSession("status", try encode(current))
        return current
    }

    /// After the last cycle against a live broker: one more look at it (fills, order states, account), journaled,
    /// so a stopped session's journal holds what the broker did with the last cycle's orders (a market order sent
    /// at the last bar close fills after that cycle's own look). Positions are recorded under the last cycle.
    public func settle() async throws(RobotError) {
        guard let last = try journal.lastCompletedCycle() else { return }
        let (_, open) = try await orders.sync()
        try await refreshAccount(open: open)
        try await updateStatus(time: last.time)
        let changed = positions.changes()
        let status = try encode(current)
        try journal.batch { () throws(RobotError) in
            try recordPositions(changed, cycle: last.seq, time: last.time)
            try journal.setSession("status", status)
        }
    }

    // MARK: Cycle

    func cycle(_ view: MarketView) async throws(RobotError) {
        let started = DispatchTime.now().uptimeNanoseconds
        let time = view.time
        let seq = try journal.beginCycle(time: time)
        // New fills are journaled by the sync; the venue's account (the authority) then replaces the positions.
        let (_, open) = try await orders.sync()
        try await refreshAccount(open: open)
        for s in view.updated {
            if let c = view.close(s) { positions.mark(view.symbols[s], price: c, at: time) }
        }
        strategy.state.brokerFailures = await orders.consecutiveFailures
        strategy.state.dataAge = wallClock.map { max(0, $0() - time) } ?? 0

        var context = StrategyContext(portfolio: positions.portfolio, nextOrderID: strategy.state.nextOrderID)
        strategy.onBar(view, broker: &context)
        let log = strategy.log
        try journal.batch { () throws(RobotError) in
            for signal in log.signals {
                try journal.recordSignal(cycle: seq, time: time, symbol: signal.symbol, signal: signal)
            }
            for e in log.breakerEvents {
                try journal.recordBreakerEvent(cycle: seq, JournaledBreakerEvent(time: e.time, kind: e.kind.rawValue,
                                                                                tripped: e.tripped, reason: e.reason, until: e.until))
            }
            for r in log.rejections {
                try journal.recordRiskRejection(cycle: seq, time: time, request: r.request, rule: r.rejection.rule,
                                                message: r.rejection.message)
            }
            for p in log.problems { try journal.recordProblem(cycle: seq, time: time, text: p) }
        }
        alertPredictions(log)
        for signal in log.signals { current.lastSignals[signal.symbol] = "\(signal.action.rawValue): \(signal.reason)" }
        try await orders.execute(context.drainOutbox(), cycle: seq, time: time)
        strategy.state.nextOrderID = context.nextOrderID
        recordLatency(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)

        // Positions after the orders went out (market orders fill with the next bar), then the cycle's end.
        try await refreshAccount(open: try await orders.openOrders())
        try await updateStatus(time: time)
        let changed = positions.changes()
        let state = try encode(strategy.state), status = try encode(current)
        try journal.batch { () throws(RobotError) in
            try recordPositions(changed, cycle: seq, time: time)
            try journal.completeCycle(seq, state: state)
            try journal.setSession("status", status)
        }
    }

    /// Journals the positions that changed, under `cycle` (inside the caller's transaction).
    private func recordPositions(_ changed: [Position], cycle: Int64, time: Int64) throws(RobotError) {
        for p in changed {
            try journal.recordPosition(cycle: cycle, time: time, symbol: p.symbol, quantity: p.quantity, averagePrice: p.averagePrice)
        }
    }

    /// The venue's account replaces the local balance and positions (it is the authority).
    private func refreshAccount(open: [OrderReport]) async throws(RobotError) {
        let report = try await orders.account()
        positions.reconcile(with: report, open: open)
        account.update(with: report, day: strategy.state.day)
    }

    private func updateStatus(time: Int64) async throws(RobotError) {
        current.lastCycleTime = time
        current.cycles = strategy.state.cycles
        current.balance = account.balance
        current.equity = account.equity
        current.buyingPower = account.buyingPower
        current.dailyPnL = account.dailyPnL
        current.drawdown = account.drawdown
        current.positions = positions.portfolio.positions.map {
            PositionReport(symbol: $0.symbol, quantity: $0.quantity, averagePrice: $0.averagePrice, mark: $0.mark.isNaN ? nil : $0.mark)
        }
        current.openOrders = positions.portfolio.openOrders.count
        current.ordersSubmitted = strategy.state.ordersSubmitted
        current.ordersRejectedByRisk = strategy.state.ordersRejectedByRisk
        current.fills = await orders.fillCount
        current.breakers = strategy.state.breakers.reasons
        current.trippedBreakers = strategy.state.breakers.tripped.keys.sorted().map(\.rawValue)
        current.dataAgeMs = strategy.log.time == time ? strategy.log.dataAge : strategy.state.dataAge
        current.lastProblem = strategy.log.time == time ? strategy.log.problems.first.map { "\(UTCTime.iso8601(time)): \($0)" }
            : current.lastProblem
        current.lastCycleLatencyMs = lastLatency
        if !latencies.isEmpty {
            current.latencyMedianMs = latencies[latencies.count / 2]
            current.latencyP99Ms = latencies[min(latencies.count - 1, Int((Double(latencies.count) * 0.99).rounded(.up)) - 1)]
        }
    }

    /// A failed prediction call is a warning at every bar close it lasts (the webhook sink folds repeats of the key),
    /// critical once the stale-data breaker trips on it; the first success after failures is reported too.
    private func alertPredictions(_ log: RobotStrategy.CycleLog) {
        if let failure = log.predictionFailure {
            failedPredictions += 1
            let stale = log.breakerEvents.contains { $0.kind == .staleData && $0.tripped }
            alerts.send(RobotAlert(
                level: stale ? .critical : .warning, key: "prediction-failed",
                title: stale ? "Predictions failing: stale-data breaker tripped" : "Prediction failed",
                message: "bar close \(UTCTime.iso8601(log.time)), \(failedPredictions) in a row: \(failure)", time: log.time))
        } else if failedPredictions > 0, !log.signals.isEmpty {
            alerts.send(RobotAlert(level: .info, key: "prediction-restored", title: "Predictions restored",
                                   message: "after \(failedPredictions) failed bar closes, at \(UTCTime.iso8601(log.time))", time: log.time))
            failedPredictions = 0
        }
    }

    /// Inserts a cycle's latency in order (a binary search and one move, not a sort of the whole run per cycle).
    private func recordLatency(_ ms: Double) {
        lastLatency = ms
        var lo = 0, hi = latencies.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if latencies[mid] <= ms { lo = mid + 1 } else { hi = mid }
        }
        latencies.insert(ms, at: lo)
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
        try await orders.reconcile()
        try await refreshAccount(open: try await orders.openOrders())
        // What changed while the robot was down (a live broker's fills), journaled under the last cycle.
        let changed = positions.changes(since: try journal.lastPositions())
        try journal.batch { () throws(RobotError) in try recordPositions(changed, cycle: last.seq, time: last.time) }
        try await updateStatus(time: last.time)
    }
}
