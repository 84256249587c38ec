import Common
import Foundation

/// The last line of defence of a production robot: once active, no order goes out until an operator resets it
/// with the authorization token. It trips by hand (`trigger`) or automatically (`observe`, `recordTrade`) when
///
/// - the session day's trades exceed `maxDailyTrades`,
/// - the gross position value (Σ |quantity × mark|) exceeds `maxPositionValue`,
/// - consecutive failed broker calls (connectivity, rate limits) reach `maxConnectivityFailures`,
/// - consecutive rejected orders reach `maxConsecutiveRejections`.
///
/// Its state lives in its own small JSON file, replaced atomically (`Common.AtomicFile`) before anything else
/// happens, so a restart — or a new journal, or a crashed journal — never clears it: it is deliberately kept out of
/// the robot journal, which belongs to one session and may be moved aside, while a kill switch belongs to the
/// account. The consequences of a trip (cancel open orders, optionally flatten, alert) are carried out by
/// `ProductionMode`, which holds the broker and journals what it sends; the alert goes out from here at once.
///
///     let ks = try KillSwitch(path: "state/kill-switch.json", limits: .init(maxDailyTrades: 40),
///                             authorization: try .fromEnvironment("AITRADER_KILL_SWITCH_TOKEN"))
///     try ks.trigger("manual stop by the desk", at: now)   // ks.isActive == true, also after a restart
///     try ks.reset(authorization: typedToken, at: now)     // .unauthorized unless it is the token
public final class KillSwitch: @unchecked Sendable {
    /// What trips it automatically (nil: that trigger is off).
    public struct Limits: Sendable, Equatable, Codable {
        public var maxDailyTrades: Int?
        public var maxPositionValue: Double?
        public var maxConnectivityFailures: Int?
        public var maxConsecutiveRejections: Int?
        /// On a trip, also close every position with market orders (otherwise only open orders are cancelled).
        public var flattenOnTrigger: Bool

        public init(maxDailyTrades: Int? = nil, maxPositionValue: Double? = nil, maxConnectivityFailures: Int? = nil,
                    maxConsecutiveRejections: Int? = nil, flattenOnTrigger: Bool = false) {
            self.maxDailyTrades = maxDailyTrades
            self.maxPositionValue = maxPositionValue
            self.maxConnectivityFailures = maxConnectivityFailures
            self.maxConsecutiveRejections = maxConsecutiveRejections
            self.flattenOnTrigger = flattenOnTrigger
        }
    }

    /// Why it tripped.
    public enum Trigger: String, Sendable, Codable, CaseIterable {
        case manual, dailyTradeCount = "daily_trade_count", positionValue = "position_value"
        case connectivityLoss = "connectivity_loss", repeatedRejections = "repeated_rejections"
        /// Journal and broker disagreed at start-up (`ProductionMode.OnDifference.tripKillSwitch`).
        case reconciliation
        /// The broker acknowledged something other than the order sent.
        case brokerMismatch = "broker_mismatch"
    }

    /// What the file holds.
    public struct State: Sendable, Equatable, Codable {
        public var active = false
        public var trigger: Trigger?
        public var reason: String?
        /// When it tripped (UTC ms).
        public var since: Int64?
        /// The session day whose trades `tradesToday` counts.
        public var tradeDay: Int64?
        public var tradesToday = 0
        /// When the consequences of the current trip were carried out (nil: still to do).
        public var sweptAt: Int64?
        /// Trips and resets, newest last (the last 100).
        public var history: [Event] = []

        public init() {}
    }

    public struct Event: Sendable, Equatable, Codable {
        public var time: Int64
        /// "trip" or "reset".
        public var action: String
        public var trigger: Trigger?
        public var reason: String
    }

    /// What the robot saw after a broker call or a cycle.
    public struct Observation: Sendable, Equatable {
        public var grossPositionValue: Double?
        public var consecutiveConnectivityFailures: Int?
        public var consecutiveRejections: Int?

        public init(grossPositionValue: Double? = nil, consecutiveConnectivityFailures: Int? = nil,
                    consecutiveRejections: Int? = nil) {
            self.grossPositionValue = grossPositionValue
            self.consecutiveConnectivityFailures = consecutiveConnectivityFailures
            self.consecutiveRejections = consecutiveRejections
        }
    }

    public let path: String
    public let limits: Limits
    private let authorization: KillSwitchAuthorization
    private let alerts: any AlertSink
    private let lock = NSLock()
    private var current: State
    /// The file as last read or written: another process's change (`aitrader robot kill-switch trigger`) is
    /// picked up by the next `isActive` / `state`.
    private var stamp: FileStamp?

    /// Opens the kill switch whose state is at `path` (created inactive when the file does not exist). A file that
    /// exists but cannot be read is an error naming it — never silently an inactive switch.
    public init(path: String, limits: Limits = Limits(), authorization: KillSwitchAuthorization,
                alerts: any AlertSink = LogAlertSink()) throws(KillSwitchError) {
        for (name, v) in [("maxDailyTrades", limits.maxDailyTrades), ("maxConnectivityFailures", limits.maxConnectivityFailures),
                          ("maxConsecutiveRejections", limits.maxConsecutiveRejections)] {
            if let v, v < 1 { throw .configuration("\(name) must be at least 1 (got \(v))") }
        }
        if let v = limits.maxPositionValue, !(v.isFinite && v > 0) {
            throw .configuration("maxPositionValue must be a positive number (got \(v))")
        }
        self.path = path
        self.limits = limits
        self.authorization = authorization
        self.alerts = alerts
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .state(path: path, message: "exists but cannot be read")
            }
            do { current = try JSONDecoder().decode(State.self, from: data) } catch {
                throw .state(path: path, message: "is not a kill switch state (\(error)); move it aside only after checking why")
            }
        } else {
            current = State()
        }
        stamp = FileStamp(path)
    }

    /// Re-reads the file when another process replaced it.
    public var isActive: Bool {
        lock.withLock {
            reloadIfChanged()
            return current.active
        }
    }

    public var state: State {
        lock.withLock {
            reloadIfChanged()
            return current
        }
    }

    /// Under the lock: takes the file's state when it changed since this process last read or wrote it. A file that
    /// cannot be read now makes the switch active (fail closed; the file is left as it is until this switch next
    /// writes its state, active); a deleted one changes nothing.
    private func reloadIfChanged() {
        guard let now = FileStamp(path), now != stamp else { return }
        stamp = now
        do {
            guard let data = FileManager.default.contents(atPath: path) else { throw KillSwitchError.state(path: path, message: "unreadable") }
            current = try JSONDecoder().decode(State.self, from: data)
        } catch {
            if !current.active {
                current.active = true
                current.trigger = .manual
                current.reason = "the state file \(path) was replaced by something unreadable; fix or restore it"
                current.since = current.since ?? 0
            }
        }
    }

    /// Trips the switch (a trip while active keeps the first reason). Returns true when it was inactive.
    @discardableResult
    public func trigger(_ reason: String, kind: Trigger = .manual, at time: Int64) throws(KillSwitchError) -> Bool {
        let tripped: Bool = try update { (s: inout State) -> Bool in
            guard !s.active else { return false }
            s.active = true
            s.trigger = kind
            s.reason = reason
            s.since = time
            s.sweptAt = nil
            s.history.append(Event(time: time, action: "trip", trigger: kind, reason: reason))
            return true
        }
        if tripped {
            alerts.send(RobotAlert(level: .critical, key: "kill-switch", title: "Kill switch tripped",
                                   message: "\(kind.rawValue): \(reason)", time: time))
        }
        return tripped
    }

    /// Clears the switch when `authorization` is the configured token (`.unauthorized` otherwise, and the attempt
    /// is alerted). The token is never written anywhere.
    public func reset(authorization candidate: String, at time: Int64, note: String = "reset by an operator") throws(KillSwitchError) {
        guard authorization.accepts(candidate) else {
            alerts.send(RobotAlert(level: .warning, key: "kill-switch-reset-refused", title: "Kill switch reset refused",
                                   message: "a reset was attempted with a wrong authorization token", time: time))
            throw .unauthorized
        }
        let wasActive: Bool = try update { (s: inout State) -> Bool in
            let was = s.active
            s.active = false
            s.trigger = nil
            s.reason = nil
            s.since = nil
            s.sweptAt = nil
            if was { s.history.append(Event(time: time, action: "reset", trigger: nil, reason: note)) }
            return was
        }
        if wasActive {
            alerts.send(RobotAlert(level: .warning, key: "kill-switch-reset", title: "Kill switch reset", message: note, time: time))
        }
    }

    /// Counts one order sent on session day `day` (the count restarts on a new day); trips at more than
    /// `maxDailyTrades`. Returns true when this trade tripped it.
    @discardableResult
    public func recordTrade(day: Int64, at time: Int64) throws(KillSwitchError) -> Bool {
        let count: Int = try update { (s: inout State) -> Int in
            if s.tradeDay != day {
                s.tradeDay = day
                s.tradesToday = 0
            }
            s.tradesToday += 1
            return s.tradesToday
        }
        if let limit = limits.maxDailyTrades, count > limit {
            return try trigger("\(count) trades this session day, the limit is \(limit)", kind: .dailyTradeCount, at: time)
        }
        return false
    }

    /// Trades counted for session day `day`.
    public func trades(day: Int64) -> Int { lock.withLock { current.tradeDay == day ? current.tradesToday : 0 } }

    /// Checks the automatic limits against what the robot saw; trips on the first one exceeded. Returns the trigger
    /// when this call tripped it.
    @discardableResult
    public func observe(_ o: Observation, at time: Int64) throws(KillSwitchError) -> Trigger? {
        if let limit = limits.maxPositionValue, let v = o.grossPositionValue, v > limit || v.isNaN {
            let what = v.isNaN ? "cannot be valued (NaN)" : "is \(RiskNumber.format(v))"
            if try trigger("gross position value \(what), the limit is \(RiskNumber.format(limit))", kind: .positionValue, at: time) {
                return .positionValue
            }
        }
        if let limit = limits.maxConnectivityFailures, let n = o.consecutiveConnectivityFailures, n >= limit {
            if try trigger("\(n) consecutive failed broker calls, the limit is \(limit)", kind: .connectivityLoss, at: time) {
                return .connectivityLoss
            }
        }
        if let limit = limits.maxConsecutiveRejections, let n = o.consecutiveRejections, n >= limit {
            if try trigger("\(n) consecutive orders rejected, the limit is \(limit)", kind: .repeatedRejections, at: time) {
                return .repeatedRejections
            }
        }
        return nil
    }

    /// Records that the current trip's consequences (cancel, flatten) were carried out.
    public func markSwept(at time: Int64) throws(KillSwitchError) {
        try update { (s: inout State) in s.sweptAt = time }
    }

    /// Applies `change` and writes the file atomically before the change is visible; a failed write leaves both the
    /// file and the switch as they were.
    private func update<T>(_ change: (inout State) -> T) throws(KillSwitchError) -> T {
        lock.lock()
        defer { lock.unlock() }
        reloadIfChanged()
        var next = current
        let result = change(&next)
        if next.history.count > 100 { next.history.removeFirst(next.history.count - 100) }
        guard next != current else { return result }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: [UInt8]
        do { bytes = Array(try encoder.encode(next)) } catch {
            throw .state(path: path, message: "cannot encode: \(error)")
        }
        do { try AtomicFile.write(bytes, to: path) } catch {
            throw .state(path: path, message: "cannot be written: \(error)")
        }
        current = next
        stamp = FileStamp(path)
        return result
    }
}

/// Identity and version of a file (inode, size, modification time), to notice that another process replaced it.
struct FileStamp: Equatable {
    var inode: UInt64
    var size: UInt64
    var modified: Double

    init?(_ path: String) {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        inode = (a[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        size = (a[.size] as? NSNumber)?.uint64Value ?? 0
        modified = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    }
}

/// Numbers in kill-switch messages: up to 2 decimals, no exponent.
enum RiskNumber {
    static func format(_ v: Double) -> String { String(format: "%.2f", v) }
}
