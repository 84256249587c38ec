import Common
import Foundation
import HTTPService
import Trading

/// What an operator watches while the robot trades: Prometheus metrics at `/metrics`, a small status page at `/`
/// and `/health` for a load balancer or a watchdog, served on 127.0.0.1 by `HTTPService.HTTPServer`; and the
/// alerts (it is an `AlertSink`) to the log and, when configured, to a webhook (`WebhookAlertSink`).
///
/// | metric | type | labels |
/// |---|---|---|
/// | `aitrader_robot_equity`, `aitrader_robot_balance`, `aitrader_robot_buying_power` | gauge | |
/// | `aitrader_robot_daily_pnl`, `aitrader_robot_drawdown` | gauge | |
/// | `aitrader_robot_position_units`, `aitrader_robot_position_value` | gauge | symbol |
/// | `aitrader_robot_orders` | gauge | state (the journal's statuses: pending_send, accepted, filled, ...) |
/// | `aitrader_robot_cycles_total`, `aitrader_robot_fills_total` | counter | |
/// | `aitrader_robot_cycle_duration_seconds` | histogram | |
/// | `aitrader_robot_breaker_tripped` | gauge (0/1) | breaker |
/// | `aitrader_robot_kill_switch_active` | gauge (0/1) | |
/// | `aitrader_robot_data_age_seconds` | gauge | |
/// | `aitrader_robot_broker_request_duration_seconds` | histogram | operation |
/// | `aitrader_robot_broker_errors_total` | counter | operation, kind |
/// | `aitrader_robot_broker_reconnects_total` | counter | |
/// | `aitrader_robot_alerts_total` | counter | level |
///
///     let monitor = TradingMonitor(maxDataAgeSeconds: 7_200, webhook: webhook)
///     try monitor.start(port: 9464)                      // curl 127.0.0.1:9464/metrics
///     try await robot.start { status, _ in monitor.record(status, orderStates: (try? journal.orderCountsByStatus()) ?? [:]) }
public final class TradingMonitor: AlertSink, @unchecked Sendable {
    public let registry = MetricsRegistry()
    let equity, balance, buyingPower, dailyPnL, drawdown, positionUnits, positionValue, orders: Gauge
    let breakerTripped, killSwitchActive, dataAge: Gauge
    let cycles, fills, brokerErrors, reconnects, alertsSent: Counter
    let cycleDuration, brokerDuration: Histogram
    /// `/health` answers 503 when the newest data is older than this (nil: never for age).
    public let maxDataAgeSeconds: Double?
    private let killSwitch: KillSwitch?
    private let sinks: [any AlertSink]
    private let lock = NSLock()
    private var latest: RobotStatus?
    private var lastFills = 0
    private var recentAlerts: [RobotAlert] = []
    private var server: HTTPServer?

    /// `sinks`: where alerts go besides the log (a `WebhookAlertSink`).
    public init(killSwitch: KillSwitch? = nil, maxDataAgeSeconds: Double? = nil, sinks: [any AlertSink] = []) {
        self.killSwitch = killSwitch
        self.maxDataAgeSeconds = maxDataAgeSeconds
        self.sinks = [LogAlertSink()] + sinks
        let r = registry
        equity = r.gauge("aitrader_robot_equity", "Account equity (the venue's figure)")
        balance = r.gauge("aitrader_robot_balance", "Settled balance")
        buyingPower = r.gauge("aitrader_robot_buying_power", "What new positions may still use")
        dailyPnL = r.gauge("aitrader_robot_daily_pnl", "Equity minus start-of-day equity")
        drawdown = r.gauge("aitrader_robot_drawdown", "Drawdown from the equity peak (fraction)")
        positionUnits = r.gauge("aitrader_robot_position_units", "Signed position", labels: ["symbol"])
        positionValue = r.gauge("aitrader_robot_position_value", "Signed position value at the mark", labels: ["symbol"])
        orders = r.gauge("aitrader_robot_orders", "Journaled orders by state", labels: ["state"])
        cycles = r.counter("aitrader_robot_cycles_total", "Completed cycles")
        fills = r.counter("aitrader_robot_fills_total", "Fills booked by the venue")
        cycleDuration = r.histogram("aitrader_robot_cycle_duration_seconds", "Bar close seen to orders sent",
                                    buckets: MetricsRegistry.latencyBuckets)
        breakerTripped = r.gauge("aitrader_robot_breaker_tripped", "1 while the circuit breaker is tripped", labels: ["breaker"])
        killSwitchActive = r.gauge("aitrader_robot_kill_switch_active", "1 while the kill switch is active")
        dataAge = r.gauge("aitrader_robot_data_age_seconds", "Age of the newest data at the latest cycle")
        brokerDuration = r.histogram("aitrader_robot_broker_request_duration_seconds", "Broker call latency",
                                     labels: ["operation"], buckets: MetricsRegistry.latencyBuckets)
        brokerErrors = r.counter("aitrader_robot_broker_errors_total", "Failed broker calls", labels: ["operation", "kind"])
        reconnects = r.counter("aitrader_robot_broker_reconnects_total", "Broker connections re-established")
        alertsSent = r.counter("aitrader_robot_alerts_total", "Alerts raised", labels: ["level"])
        for kind in ["daily_loss", "consecutive_losses", "drawdown", "volatility_spike", "stale_data", "broker_connectivity"] {
            breakerTripped.set(0, [kind])
        }
        killSwitchActive.set(killSwitch?.isActive == true ? 1 : 0)
    }

    deinit { stop() }

    // MARK: Recording

    /// After each cycle: the robot's status and the journal's order counts by state.
    public func record(_ status: RobotStatus, orderStates: [String: Int] = [:]) {
        equity.set(status.equity)
        balance.set(status.balance)
        buyingPower.set(status.buyingPower)
        dailyPnL.set(status.dailyPnL ?? 0)
        drawdown.set(status.drawdown ?? 0)
        let previous = lock.withLock { () -> RobotStatus? in
            defer { latest = status }
            return latest
        }
        for p in previous?.positions ?? [] where !status.positions.contains(where: { $0.symbol == p.symbol }) {
            positionUnits.set(0, [p.symbol])
            positionValue.set(0, [p.symbol])
        }
        for p in status.positions {
            positionUnits.set(p.quantity, [p.symbol])
            positionValue.set(p.quantity * (p.mark ?? p.averagePrice), [p.symbol])
        }
        for (state, n) in orderStates { orders.set(Double(n), [state]) }
        let newCycles = status.cycles - (previous?.cycles ?? 0)
        if newCycles > 0 { cycles.increment(by: Double(newCycles)) }
        let newFills = lock.withLock { () -> Int in
            defer { lastFills = status.fills }
            return status.fills - lastFills
        }
        if newFills > 0 { fills.increment(by: Double(newFills)) }
        if let ms = status.lastCycleLatencyMs { cycleDuration.observe(ms / 1000) }
        let tripped = Set(status.trippedBreakers ?? [])
        for kind in ["daily_loss", "consecutive_losses", "drawdown", "volatility_spike", "stale_data", "broker_connectivity"] {
            breakerTripped.set(tripped.contains(kind) ? 1 : 0, [kind])
        }
        dataAge.set(Double(status.dataAgeMs ?? 0) / 1000)
        killSwitchActive.set(killSwitch?.isActive == true ? 1 : 0)
    }

    /// One broker call: its latency, and its failure kind when it failed.
    public func recordBrokerCall(_ operation: String, seconds: Double, error: VenueError?) {
        brokerDuration.observe(seconds, [operation])
        if let error { brokerErrors.increment([operation, Self.kind(error)]) }
    }

    /// A broker connection (stream or session) re-established after a loss.
    public func recordReconnect() { reconnects.increment() }

    static func kind(_ e: VenueError) -> String {
        switch e {
        case .connectivity: "connectivity"
        case .rateLimited: "rate_limited"
        case .invalidResponse: "invalid_response"
        case .refused: "refused"
        case .duplicateClientOrderID: "duplicate_client_order_id"
        case .unknownOrder: "unknown_order"
        }
    }

    // MARK: Alerts

    public func send(_ alert: RobotAlert) {
        alertsSent.increment([alert.level.rawValue])
        lock.withLock {
            recentAlerts.append(alert)
            if recentAlerts.count > 20 { recentAlerts.removeFirst(recentAlerts.count - 20) }
        }
        for sink in sinks { sink.send(alert) }
    }

    /// The latest alerts (at most 20), oldest first.
    public var alerts: [RobotAlert] { lock.withLock { recentAlerts } }

    // MARK: HTTP

    /// Serves `/metrics`, `/health` and `/` on `host:port` (127.0.0.1 by default; port 0: any free port, see `port`).
    public func start(host: String = "127.0.0.1", port: Int) throws(HTTPServerError) {
        let server = HTTPServer(configuration: .init(host: host, port: port, maxBodyBytes: 4 << 10, connectionLimit: 32,
                                                     idleTimeoutSeconds: 30)) { [weak self] request in
            self?.handle(request) ?? .text(503, "stopping\n")
        }
        try server.start()
        lock.withLock { self.server = server }
    }

    /// The port served (0 before `start`).
    public var port: Int { lock.withLock { server?.port ?? 0 } }

    public func stop() {
        let s = lock.withLock { () -> HTTPServer? in
            defer { server = nil }
            return server
        }
        s?.stop(waiting: 1)
    }

    /// The routes (also callable without a server, for tests and `aitrader robot status`).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .text(405, "only GET is served here\n")
        }
        switch request.path {
        case "/metrics":
            killSwitchActive.set(killSwitch?.isActive == true ? 1 : 0)
            return .text(200, registry.exposition(), contentType: MetricsRegistry.contentType)
        case "/health":
            let h = health()
            return .json(h.healthy ? 200 : 503, MonitorPage.healthJSON(h))
        case "/", "/index.html":
            return .text(200, MonitorPage.html(status: lock.withLock { latest }, health: health(), alerts: alerts),
                         contentType: "text/html; charset=utf-8")
        default:
            return .text(404, "not found: \(request.path.prefix(100)) (try /, /metrics, /health)\n")
        }
    }

    /// Healthy: a cycle has run, the kill switch is inactive and the data is fresh enough.
    public struct Health: Sendable, Equatable {
        public var healthy: Bool
        public var problems: [String]
    }

    public func health() -> Health {
        var problems: [String] = []
        let status = lock.withLock { latest }
        if status == nil { problems.append("no cycle has completed yet") }
        if let ks = killSwitch, ks.isActive {
            let s = ks.state
            problems.append("kill switch active (\(s.trigger?.rawValue ?? "manual"): \(s.reason ?? ""))")
        }
        if let limit = maxDataAgeSeconds, let age = status?.dataAgeMs, Double(age) / 1000 > limit {
            problems.append("data is \(Double(age) / 1000) s old, the limit is \(limit) s")
        }
        for b in status?.breakers ?? [] { problems.append("breaker \(b)") }
        return Health(healthy: problems.isEmpty, problems: problems)
    }
}
