import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPService
@testable import Robot
import Testing
import Trading

/// GET (or another method) against a local server; (status, body).
func localRequest(_ url: String, method: String = "GET") async throws -> (Int, String) {
    var request = URLRequest(url: try #require(URL(string: url)), timeoutInterval: 10)
    request.httpMethod = method
    return try await withCheckedThrowingContinuation { done in
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { done.resume(throwing: error); return }
            done.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self)))
        }.resume()
    }
}

/// The value of one sample line of a Prometheus exposition (`name{labels} value`).
func sample(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

/// A stand-in chat webhook on 127.0.0.1: records every POST body, answers `status`.
final class WebhookRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(path: String, body: String)] = []
    let server: HTTPServer
    init(status: Int = 200) throws {
        let box = Box()
        server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0, connectionLimit: 8, idleTimeoutSeconds: 5)) { r in
            box.recorder?.record(r.path, String(decoding: r.body, as: UTF8.self))
            return .text(status, "ok")
        }
        box.recorder = self
        try server.start()
    }
    final class Box: @unchecked Sendable { weak var recorder: WebhookRecorder? }
    func record(_ path: String, _ body: String) { lock.withLock { received.append((path, body)) } }
    var bodies: [String] { lock.withLock { received.map(\.body) } }
    var paths: [String] { lock.withLock { received.map(\.path) } }
}

/// A clock tests step by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t = 1_000_000.0
    var now: Double { lock.withLock { t } }
    func advance(_ s: Double) { lock.withLock { t += s } }
}

@Suite(.serialized) struct TradingMonitorTests {
    /// A production session over the stand-in broker with the monitor: /metrics agrees with the robot's status and
    /// journal, /health turns 503 when the kill switch trips, / is an escaped status page.
    @Test func metricsHealthAndTheStatusPageFollowTheRobot() async throws {
        let bars = try RobotFixture.eurusd(bars: 300)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let journal = try RobotJournal(path: temporaryPath("monitor.sqlite"), durability: .process)
        let ks = try KillSwitch(path: temporaryPath("ks.json"),
                                authorization: try .fromEnvironment("T", environment: ["T": ProductionModeTests.token]),
                                alerts: AlertRecorder())
        let monitor = TradingMonitor(killSwitch: ks, maxDataAgeSeconds: 3_600)
        try monitor.start(port: 0)
        defer { monitor.stop() }
        #expect(monitor.port > 0)
        let base = "http://127.0.0.1:\(monitor.port)"
        #expect(try await localRequest(base + "/health").0 == 503, "no cycle yet")

        let mode = ProductionMode(broker: InstrumentedVenue(feed.broker, monitor: monitor), killSwitch: ks,
                                  validator: ProductionModeTests.permissive, feed: feed, journal: journal, alerts: monitor)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: SyntheticPredictions()),
                                 mode: mode, journal: journal, initialBalance: 10_000)
        let status = try await robot.start(onCycle: { status, _ in
            monitor.record(status, orderStates: (try? journal.orderCountsByStatus()) ?? [:])
        })
        let (code, metrics) = try await localRequest(base + "/metrics")
        #expect(code == 200)
        #expect(sample(metrics, "aitrader_robot_equity") == status.equity)
        #expect(sample(metrics, "aitrader_robot_cycles_total") == Double(status.cycles))
        #expect(sample(metrics, "aitrader_robot_fills_total") == Double(status.fills) && status.fills > 0)
        #expect(sample(metrics, "aitrader_robot_cycle_duration_seconds_count") == Double(status.cycles))
        let counts = try journal.orderCountsByStatus()
        #expect(sample(metrics, #"aitrader_robot_orders{state="filled"}"#) == Double(counts["filled"] ?? -1))
        #expect((sample(metrics, #"aitrader_robot_broker_request_duration_seconds_count{operation="account"}"#) ?? 0) > 0)
        #expect(sample(metrics, "aitrader_robot_kill_switch_active") == 0)
        #expect(sample(metrics, #"aitrader_robot_breaker_tripped{breaker="drawdown"}"#) != nil)
        #expect(sample(metrics, #"aitrader_robot_alerts_total{level="info"}"#) == 1, "the clean reconciliation")
        #expect(metrics.contains("# TYPE aitrader_robot_cycle_duration_seconds histogram"))

        let healthy = try await localRequest(base + "/health")
        #expect(healthy.0 == 200 && healthy.1 == #"{"status":"ok","problems":[]}"#, "\(healthy)")
        try ks.trigger("desk <halt> & review", at: 1)
        let halted = try await localRequest(base + "/health")
        #expect(halted.0 == 503 && halted.1.contains("kill switch active (manual: desk <halt> & review)"))
        #expect(sample(try await localRequest(base + "/metrics").1, "aitrader_robot_kill_switch_active") == 1)
        let page = try await localRequest(base + "/")
        #expect(page.0 == 200 && page.1.contains("desk &lt;halt&gt; &amp; review") && !page.1.contains("<halt>"))
        #expect(page.1.contains("<th>cycles</th><td>\(status.cycles)</td>"))
        #expect(try await localRequest(base + "/nope").0 == 404)
        #expect(try await localRequest(base + "/metrics", method: "POST").0 == 405)
    }

    /// Broker calls timed, errors counted by kind, a success after a connectivity failure counted as a reconnect.
    @Test func brokerLatencyErrorsAndReconnectsAreCounted() async throws {
        let bars = try RobotFixture.eurusd(bars: 10)
        let feed = StandInBrokerFeed(SimulationMode(series: [bars], cash: 10_000, models: RobotFixture.models))
        let failing = FailingBroker(feed.broker, error: .connectivity("reset by peer"))
        let monitor = TradingMonitor()
        let venue = InstrumentedVenue(failing, monitor: monitor)
        _ = try await venue.account()
        failing.failing = true
        for _ in 0..<2 { _ = try? await venue.account() }
        failing.failing = false
        _ = try await venue.account()
        _ = try await venue.account()
        let text = monitor.registry.exposition()
        #expect(sample(text, #"aitrader_robot_broker_request_duration_seconds_count{operation="account"}"#) == 5)
        #expect(sample(text, #"aitrader_robot_broker_errors_total{operation="account",kind="connectivity"}"#) == 2)
        #expect(sample(text, "aitrader_robot_broker_reconnects_total") == 1)
    }

    /// Slack-compatible POSTs to a stand-in webhook; repeats within the window suppressed and reported in the next
    /// message; more than maxPerMinute dropped; info below the minimum level not sent.
    @Test func webhookAlertsAreDeduplicatedAndRateLimited() async throws {
        let hook = try WebhookRecorder()
        defer { hook.server.stop() }
        let clock = ManualClock()
        let secretPath = "/services/T000/B000/XXXXsecretXXXX"
        let sink = try WebhookAlertSink(url: try #require(URL(string: "http://127.0.0.1:\(hook.server.port)\(secretPath)")),
                                        policy: .init(deduplicationSeconds: 300, maxPerMinute: 3),
                                        clock: { clock.now })
        let trip = RobotAlert(level: .critical, key: "kill-switch", title: "Kill switch tripped", message: "connectivity_loss: 5 failures")
        sink.send(trip)
        sink.send(trip)
        sink.send(trip)
        sink.send(RobotAlert(level: .info, key: "reconciliation", title: "ok", message: "agree"))
        #expect(await sink.flush(timeout: 10))
        #expect(hook.bodies.count == 1)
        #expect(sink.statistics.suppressedDuplicates == 2)
        clock.advance(301)
        sink.send(trip)
        #expect(await sink.flush(timeout: 10))
        #expect(hook.bodies.count == 2)
        #expect(hook.bodies[1].contains("(2 similar alerts suppressed)"))
        let json = try JSONSerialization.jsonObject(with: Data(hook.bodies[0].utf8)) as? [String: Any]
        #expect(json?["text"] as? String == "*[CRITICAL] Kill switch tripped*\nconnectivity_loss: 5 failures")
        #expect(hook.paths.allSatisfy { $0 == secretPath })

        // Rate limit: 3 a minute; the one just sent counts.
        for k in 0..<4 { sink.send(RobotAlert(level: .warning, key: "w\(k)", title: "warning \(k)", message: "")) }
        #expect(await sink.flush(timeout: 10))
        #expect(hook.bodies.count == 4)
        #expect(sink.statistics.droppedByRateLimit == 2)
        #expect(sink.statistics.delivered == 4 && sink.statistics.failed == 0)
    }

    /// A webhook that fails (a 500, a closed port) is counted and logged by host; the secret path appears nowhere.
    @Test func webhookFailuresNameTheHostButNotTheSecretPath() async throws {
        let hook = try WebhookRecorder(status: 500)
        defer { hook.server.stop() }
        let secret = "/hooks/very-secret-token-abc123"
        let sink = try WebhookAlertSink(url: try #require(URL(string: "http://127.0.0.1:\(hook.server.port)\(secret)")))
        sink.send(RobotAlert(level: .critical, key: "k", title: "t", message: "m"))
        #expect(await sink.flush(timeout: 10))
        #expect(sink.statistics.failed == 1)
        #expect(sink.statistics.lastError == "127.0.0.1:\(hook.server.port) answered HTTP 500")

        let closedPort = hook.server.port
        hook.server.stop()
        let dead = try WebhookAlertSink(url: try #require(URL(string: "http://127.0.0.1:\(closedPort)\(secret)")),
                                        policy: .init(timeoutSeconds: 2))
        dead.send(RobotAlert(level: .critical, key: "k", title: "t", message: "m"))
        #expect(await dead.flush(timeout: 10))
        #expect(dead.statistics.failed == 1)
        let error = try #require(dead.statistics.lastError)
        #expect(error.contains("127.0.0.1") && !error.contains("secret"))
        #expect(throws: RobotError.self) { try WebhookAlertSink(url: try #require(URL(string: "ftp://x/y"))) }
    }
}
