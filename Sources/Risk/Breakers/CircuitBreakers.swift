import Foundation
import Common

/// The circuit breakers of one account: which are tripped, why and until when. A value the robot evaluates once
/// per bar (and after fills and venue calls), journals as JSON after every event, and restores after a restart —
/// a tripped breaker stays tripped across kill -9.
///
///     var breakers = CircuitBreakers(config: file.breakers, profile: moderate)   // daily loss limit 3 %
///     breakers.evaluate(BreakerObservation(time: t, equity: 9_680, startOfDayEquity: 10_000, peakEquity: 10_000,
///                                          consecutiveLosses: 0, volatilityRatio: 1, dataAge: 0, brokerFailures: 0))
///     // [BreakerEvent(kind: .dailyLoss, tripped: true,
///     //               reason: "daily loss 3.2 % ≥ limit 3.0 % of start-of-day equity 10 000.00", ...)]
///     breakers.isTripped(at: t)        // true: the risk engine now passes only reducing orders
///
/// Life cycle of each breaker: its condition holds → trip (an event with `tripped: true`, `until` = the end of its
/// cool-down, nil when it resets by hand only). It then stays tripped, whatever the time, until an `evaluate`
/// sees both the cool-down over and the condition cleared (an event with `tripped: false`) or `reset` is called.
/// An expired cool-down alone never re-opens trading. What "cleared" means per breaker is in `BreakerKind`.
///
/// Two breakers need memory of their own because trading stops while they are tripped: after the
/// consecutive-losses breaker resets, the streak counts from the robot's count at the reset (a halted robot wins
/// no trades to break its streak); after a manual reset of the drawdown breaker, drawdown is measured from the
/// equity at the reset until equity makes a new high (otherwise it would trip again at once).
public struct CircuitBreakers: Sendable, Equatable, Codable {
    public private(set) var config: BreakerConfig
    public private(set) var profile: RiskProfile
    private var trips: [BreakerKind: BreakerEvent] = [:]
    /// Session day of the daily-loss trip.
    private var dailyLossSessionDay: Int64?
    /// Losses of the robot's streak already acknowledged by a consecutive-losses reset.
    private var lossStreakBaseline = 0
    /// After a manual drawdown reset: the peak drawdown is measured from, until a new equity high.
    private var rebasedPeak: Double?
    private var lastObservation: LastObservation?

    private struct LastObservation: Sendable, Equatable, Codable {
        var equity: Double
        var consecutiveLosses: Int
    }

    public init(config: BreakerConfig, profile: RiskProfile) {
        self.config = config
        self.profile = profile
    }

    /// The tripped breakers with the event that tripped each.
    public var tripped: [BreakerKind: BreakerEvent] { trips }

    /// True while any breaker tripped at or before `time` is still tripped. Cool-downs are not consulted: a
    /// breaker resets only through `evaluate` (cool-down over and condition cleared) or `reset`.
    public func isTripped(at time: Int64) -> Bool {
        trips.values.contains { $0.time <= time }
    }

    /// The reasons of the tripped breakers, in `BreakerKind` order (for rejections and the status display).
    public var reasons: [String] { trips.sorted { $0.key < $1.key }.map { "\($0.key.rawValue): \($0.value.reason)" } }

    /// New thresholds (an edited config file) for the same trip state, e.g. after restoring from the journal.
    public mutating func reconfigure(config: BreakerConfig, profile: RiskProfile) {
        self.config = config
        self.profile = profile
    }

    /// Trips the breakers whose condition holds and resets the tripped ones whose cool-down is over and whose
    /// condition has cleared; returns those events in `BreakerKind` order (empty when nothing changed).
    public mutating func evaluate(_ o: BreakerObservation) -> [BreakerEvent] {
        // Memory first: the robot's streak restarted (a winner), a new equity high ends a drawdown rebase.
        if o.consecutiveLosses < lossStreakBaseline { lossStreakBaseline = 0 }
        if let r = rebasedPeak, o.equity.isFinite {
            rebasedPeak = o.equity >= o.peakEquity ? nil : max(r, o.equity)
        }
        var events: [BreakerEvent] = []
        for kind in BreakerKind.allCases {
            let (breached, reason) = measure(kind, o)
            if let trip = trips[kind] {
                guard let cooldown = config.cooldown(kind), o.time >= trip.time + cooldown else { continue }
                let cleared: Bool
                switch kind {
                case .dailyLoss:
                    cleared = o.effectiveSessionDay > (dailyLossSessionDay ?? .max) && breached == false
                case .consecutiveLosses:
                    cleared = true
                default:
                    cleared = breached == false
                }
                guard cleared else { continue }
                trips[kind] = nil
                if kind == .consecutiveLosses { lossStreakBaseline = o.consecutiveLosses }
                if kind == .dailyLoss { dailyLossSessionDay = nil }
                let why = kind == .consecutiveLosses
                    ? "cool-down of \(RiskFormat.duration(cooldown)) over; the loss streak counts from 0 again"
                    : "cleared: \(reason)"
                events.append(BreakerEvent(kind: kind, tripped: false, time: o.time, reason: why, until: nil))
            } else if breached == true {
                var until = config.cooldown(kind).map { o.time + $0 }
                if kind == .dailyLoss {
                    dailyLossSessionDay = o.effectiveSessionDay
                    if until == o.time { until = nil }     // no extra cool-down: the next session day
                }
                let event = BreakerEvent(kind: kind, tripped: true, time: o.time, reason: reason, until: until)
                trips[kind] = event
                events.append(event)
            }
        }
        lastObservation = LastObservation(equity: o.equity, consecutiveLosses: o.consecutiveLosses)
        return events
    }

    /// Resets `kind` by hand (the operator's decision, cool-down or not); returns the reset event, nil when it was
    /// not tripped. A breaker whose condition still holds trips again at the next `evaluate`, except the two with
    /// memory: the loss streak and the drawdown (measured from the equity last observed) start over.
    @discardableResult
    public mutating func reset(_ kind: BreakerKind, at time: Int64) -> BreakerEvent? {
        guard trips[kind] != nil else { return nil }
        trips[kind] = nil
        switch kind {
        case .consecutiveLosses:
            lossStreakBaseline = lastObservation?.consecutiveLosses ?? lossStreakBaseline
        case .drawdown:
            rebasedPeak = lastObservation?.equity
        case .dailyLoss:
            dailyLossSessionDay = nil
        default:
            break
        }
        return BreakerEvent(kind: kind, tripped: false, time: time, reason: "reset by hand", until: nil)
    }

    /// Whether `kind`'s condition holds in `o` (nil = cannot tell: missing or non-finite numbers), with the
    /// user-facing text.
    private func measure(_ kind: BreakerKind, _ o: BreakerObservation) -> (Bool?, String) {
        switch kind {
        case .dailyLoss:
            let limit = profile.dailyLossLimit
            guard o.startOfDayEquity > 0, o.startOfDayEquity.isFinite, o.equity.isFinite else {
                return (nil, "daily loss unknown (start-of-day equity \(o.startOfDayEquity), equity \(o.equity))")
            }
            let loss = (o.startOfDayEquity - o.equity) / o.startOfDayEquity
            let breached = loss >= limit
            return (breached, "daily loss \(RiskFormat.percent(loss)) \(breached ? "≥" : "<") limit "
                    + "\(RiskFormat.percent(limit)) of start-of-day equity \(RiskFormat.money(o.startOfDayEquity))")
        case .consecutiveLosses:
            let streak = max(0, o.consecutiveLosses - lossStreakBaseline)
            let breached = streak >= profile.maxConsecutiveLosses
            return (breached, "\(streak) losing trades in a row \(breached ? "≥" : "<") limit "
                    + "\(profile.maxConsecutiveLosses)")
        case .drawdown:
            let peak = rebasedPeak ?? o.peakEquity
            guard peak > 0, peak.isFinite, o.equity.isFinite else {
                return (nil, "drawdown unknown (peak equity \(peak), equity \(o.equity))")
            }
            let dd = max(0, (peak - o.equity) / peak)
            let breached = dd >= profile.maxDrawdown
            return (breached, "drawdown \(RiskFormat.percent(dd)) \(breached ? "≥" : "<") limit "
                    + "\(RiskFormat.percent(profile.maxDrawdown)) from peak equity \(RiskFormat.money(peak))"
                    + (rebasedPeak == nil ? "" : " (since the manual reset)"))
        case .volatilitySpike:
            let t = config.volatilityRatioThreshold
            guard o.volatilityRatio.isFinite else { return (nil, "volatility ratio unknown") }
            let breached = o.volatilityRatio >= t
            return (breached, "volatility \(String(format: "%.2f", o.volatilityRatio))× its recent median "
                    + "\(breached ? "≥" : "<") threshold \(RiskFormat.number(t))×")
        case .staleData:
            let maxAge = config.staleDataMaxAge
            let breached = o.dataAge > maxAge
            return (breached, "newest data \(RiskFormat.duration(max(o.dataAge, 0))) old \(breached ? ">" : "≤") "
                    + "limit \(RiskFormat.duration(maxAge)) (\(RiskFormat.number(config.staleDataMaxAgeBars)) bars)")
        case .brokerConnectivity:
            let breached = o.brokerFailures >= config.brokerMaxFailures
            return (breached, "\(o.brokerFailures) venue calls failed in a row \(breached ? "≥" : "<") limit "
                    + "\(config.brokerMaxFailures)")
        }
    }
}
