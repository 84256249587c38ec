/// At most `maxOrders` orders in any rolling 60 seconds — the guard against a strategy or a reconnect loop
/// flooding the venue. A value the robot journals with the rest of its risk state.
///
///     var throttle = OrderThrottle(maxOrdersPerMinute: 2)
///     throttle.admit(at: 0)         // true
///     throttle.admit(at: 10_000)    // true
///     throttle.admit(at: 59_999)    // false: 2 orders in (−1 s, 59.999 s]
///     throttle.admit(at: 60_000)    // true: the order at 0 left the window
public struct OrderThrottle: Sendable, Equatable, Codable {
    public static let window: Int64 = 60_000
    public var maxOrders: Int
    /// Times (ms) of the orders counted in the current window, oldest first.
    public private(set) var recent: [Int64] = []

    public init(maxOrdersPerMinute: Int) {
        maxOrders = max(0, maxOrdersPerMinute)
    }

    /// Orders counted in the 60 s ending at `time`.
    public func count(at time: Int64) -> Int {
        recent.filter { $0 > time - Self.window && $0 <= time }.count
    }

    /// Admits an order at `time` (counts it) when fewer than `maxOrders` were admitted in the 60 s window ending
    /// at `time`; otherwise refuses it and counts nothing.
    public mutating func admit(at time: Int64) -> Bool {
        prune(before: time)
        guard count(at: time) < maxOrders else { return false }
        record(at: time)
        return true
    }

    /// Counts an order that must go out whatever the rate (a position being reduced or closed).
    public mutating func record(at time: Int64) {
        prune(before: time)
        let i = recent.lastIndex { $0 <= time }.map { $0 + 1 } ?? 0
        recent.insert(time, at: i)
    }

    /// The earliest time an order would be admitted, `time` itself when one would be now (`Int64.max` when
    /// `maxOrders` is 0).
    public func nextAdmission(at time: Int64) -> Int64 {
        guard maxOrders > 0 else { return .max }
        let inWindow = recent.filter { $0 > time - Self.window && $0 <= time }
        guard inWindow.count >= maxOrders else { return time }
        return inWindow[inWindow.count - maxOrders] + Self.window
    }

    private mutating func prune(before time: Int64) {
        recent.removeAll { $0 <= time - Self.window }
    }
}
