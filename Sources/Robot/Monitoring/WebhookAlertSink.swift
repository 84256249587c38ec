import Common
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Alerts to a chat webhook as a Slack-compatible JSON POST (`{"text": "..."}`, which Slack, Mattermost, Rocket.Chat
/// and Microsoft Teams' Slack-compatible connectors accept), with de-duplication and rate limiting so that a
/// condition repeating every cycle does not flood the channel:
///
/// - below `minimumLevel`: not sent (the log still has it);
/// - the same level, key and message within `deduplicationSeconds` of the last one sent: suppressed, and counted in
///   the next message that goes out ("3 similar alerts suppressed");
/// - more than `maxPerMinute` sent in the last 60 s: dropped (counted the same way);
/// - delivery runs in the background, one POST at a time, at most `maxQueued` waiting (the oldest is dropped),
///   `timeoutSeconds` each; a failure is logged with the webhook's host only — the URL's path is a secret (a Slack
///   webhook's token) and appears in no log line, error or statistic.
///
///     let webhook = try WebhookAlertSink(url: URL(string: env["AITRADER_ALERT_WEBHOOK"]!)!)
///     let monitor = TradingMonitor(sinks: [webhook])
public final class WebhookAlertSink: AlertSink, @unchecked Sendable {
    public struct Policy: Sendable, Equatable {
        public var minimumLevel: AlertLevel
        public var deduplicationSeconds: Double
        public var maxPerMinute: Int
        public var timeoutSeconds: Double
        public var maxQueued: Int

        public init(minimumLevel: AlertLevel = .warning, deduplicationSeconds: Double = 300, maxPerMinute: Int = 10,
                    timeoutSeconds: Double = 5, maxQueued: Int = 100) {
            self.minimumLevel = minimumLevel
            self.deduplicationSeconds = deduplicationSeconds
            self.maxPerMinute = maxPerMinute
            self.timeoutSeconds = timeoutSeconds
            self.maxQueued = maxQueued
        }
    }

    /// What happened to the alerts given to it.
    public struct Statistics: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        public var suppressedDuplicates = 0
        public var droppedByRateLimit = 0
        public var droppedByQueue = 0
        /// The latest delivery failure, in words (host only, never the URL's path).
        public var lastError: String?
    }

    public let policy: Policy
    private let url: URL
    private let host: String
    private let clock: @Sendable () -> Double
    private let session: URLSession
    private let lock = NSLock()
    private var lastSent: [String: Double] = [:]
    private var sentTimes: [Double] = []
    private var unreported = 0
    private var queue: [Data] = []
    private var running = false
    private var stats = Statistics()

    /// `url` must be http or https. `clock`: seconds (wall clock by default; tests step their own).
    public init(url: URL, policy: Policy = Policy(),
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws(RobotError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw .configuration("the alert webhook must be an http(s) URL with a host")
        }
        guard policy.maxPerMinute >= 1, policy.maxQueued >= 1, policy.timeoutSeconds > 0, policy.deduplicationSeconds >= 0 else {
            throw .configuration("the alert webhook's policy needs maxPerMinute ≥ 1, maxQueued ≥ 1, a positive timeout")
        }
        self.url = url
        self.host = url.port.map { "\(host):\($0)" } ?? host
        self.policy = policy
        self.clock = clock
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = policy.timeoutSeconds
        configuration.timeoutIntervalForResource = policy.timeoutSeconds
        session = URLSession(configuration: configuration)
    }

    public var statistics: Statistics { lock.withLock { stats } }

    /// The Slack-compatible body of an alert.
    public static func body(_ alert: RobotAlert, suppressed: Int = 0) -> Data {
        var text = "*[\(alert.level.rawValue.uppercased())] \(alert.title)*"
        if !alert.message.isEmpty { text += "\n" + alert.message }
        if alert.time > 0 { text += "\n_" + UTCTime.iso8601(alert.time) + "_" }
        if suppressed > 0 { text += "\n(\(suppressed) similar alert\(suppressed == 1 ? "" : "s") suppressed)" }
        return Data("{\"text\":\(JSONText.quote(text))}".utf8)
    }

    public func send(_ alert: RobotAlert) {
        guard alert.level >= policy.minimumLevel else { return }
        let now = clock()
        let key = "\(alert.level.rawValue)|\(alert.key)|\(alert.message)"
        let start: Bool = lock.withLock {
            if let last = lastSent[key], now - last < policy.deduplicationSeconds {
                stats.suppressedDuplicates += 1
                unreported += 1
                return false
            }
            sentTimes.removeAll { now - $0 >= 60 }
            guard sentTimes.count < policy.maxPerMinute else {
                stats.droppedByRateLimit += 1
                unreported += 1
                return false
            }
            sentTimes.append(now)
            lastSent[key] = now
            if lastSent.count > 1_000 { lastSent = lastSent.filter { now - $0.value < policy.deduplicationSeconds } }
            queue.append(Self.body(alert, suppressed: unreported))
            unreported = 0
            if queue.count > policy.maxQueued {
                queue.removeFirst()
                stats.droppedByQueue += 1
            }
            guard !running else { return false }
            running = true
            return true
        }
        if start { Task.detached { [self] in await drain() } }
    }

    /// Waits until every queued alert was delivered or failed (at most `timeout` seconds); true when done.
    @discardableResult
    public func flush(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lock.withLock({ !running && queue.isEmpty }) { return true }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return false
    }

    private func drain() async {
        while true {
            let next: Data? = lock.withLock {
                if queue.isEmpty {
                    running = false
                    return nil
                }
                return queue.removeFirst()
            }
            guard let body = next else { return }
            let failure = await post(body)
            lock.withLock {
                if let failure {
                    stats.failed += 1
                    stats.lastError = failure
                } else {
                    stats.delivered += 1
                }
            }
            if let failure { Log.warning("alert webhook: \(failure)") }
        }
    }

    /// nil when the webhook answered 2xx, else why not (host only).
    private func post(_ body: Data) async -> String? {
        var request = URLRequest(url: url, timeoutInterval: policy.timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        let host = self.host
        return await withCheckedContinuation { (done: CheckedContinuation<String?, Never>) in
            session.dataTask(with: request) { _, response, error in
                if let error {
                    let code = (error as NSError).code
                    done.resume(returning: "delivery to \(host) failed (URL error \(code))")
                } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                    done.resume(returning: "\(host) answered HTTP \(http.statusCode)")
                } else {
                    done.resume(returning: nil)
                }
            }.resume()
        }
    }
}
