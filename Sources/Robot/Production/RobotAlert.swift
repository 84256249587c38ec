import Common

/// How urgent an alert is.
public enum AlertLevel: String, Sendable, Codable, Comparable, CaseIterable {
    case info, warning, critical

    var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (a: AlertLevel, b: AlertLevel) -> Bool { a.rank < b.rank }
}

/// Something an operator should know about: the kill switch tripped, a start-up reconciliation found differences,
/// the broker keeps rejecting orders. `key` groups repeats of the same condition (for de-duplication); it never
/// carries a secret, nor does `message`.
///
///     RobotAlert(level: .critical, key: "kill-switch", title: "Kill switch tripped",
///                message: "daily trade count: 41 trades today, the limit is 40")
public struct RobotAlert: Sendable, Equatable, Codable {
    public var level: AlertLevel
    public var key: String
    public var title: String
    public var message: String
    /// UTC ms (the robot's clock: the bar close in a replay, the wall clock live).
    public var time: Int64

    public init(level: AlertLevel, key: String, title: String, message: String, time: Int64 = 0) {
        self.level = level
        self.key = key
        self.title = title
        self.message = message
        self.time = time
    }
}

/// Where alerts go (the monitor's webhook and log, a test's recorder).
public protocol AlertSink: Sendable {
    func send(_ alert: RobotAlert)
}

/// Alerts to the log only: critical as errors, warnings as warnings, the rest as info.
public struct LogAlertSink: AlertSink {
    public init() {}

    public func send(_ alert: RobotAlert) {
        let fields = ["alert": alert.key]
        switch alert.level {
        case .critical: Log.error("\(alert.title): \(alert.message)", fields)
        case .warning: Log.warning("\(alert.title): \(alert.message)", fields)
        case .info: Log.info("\(alert.title): \(alert.message)", fields)
        }
    }
}
