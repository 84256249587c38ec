import Risk

/// What a `RobotStrategy` decided over a whole run, cycle after cycle: every signal, breaker event, risk rejection
/// and problem, in order. Kept beside the state, not in it (`RobotState` is what a restart restores; this is what a
/// report reads), and only when `RobotStrategy.recordsHistory` is set — a backtest turns it on, a live robot, whose
/// journal already holds all of it, leaves it off.
///
///     var strategy = RobotStrategy(settings: settings, source: source)
///     strategy.recordsHistory = true
///     let result = try Backtester(series: [bars], config: config).run(&strategy)
///     strategy.history.signals.count, strategy.history.breakerEvents, strategy.history.rejectionsByRule
public struct RobotHistory: Sendable, Equatable {
    /// Cycles recorded (one per bar close the strategy was called at).
    public var cycles = 0
    public var signals: [TradingSignal] = []
    public var breakerEvents: [BreakerEvent] = []
    public var rejections: [RobotStrategy.Rejection] = []
    /// Cycle problems with their bar-close time (a failed prediction, a bar without one).
    public var problems: [(time: Int64, text: String)] = []

    public init() {}

    /// Appends what one cycle decided.
    public mutating func record(_ log: RobotStrategy.CycleLog) {
        cycles += 1
        signals += log.signals
        breakerEvents += log.breakerEvents
        rejections += log.rejections
        problems += log.problems.map { (log.time, $0) }
    }

    /// Signals per action (`open`, `reverse`, `close`, `hold`), every action listed.
    public var signalsByAction: [(action: String, count: Int)] {
        let actions: [TradingSignal.Action] = [.open, .reverse, .close, .hold]
        return actions.map { a in (a.rawValue, signals.reduce(0) { $0 + ($1.action == a ? 1 : 0) }) }
    }

    /// Risk rejections per rule, most frequent first (ties by name).
    public var rejectionsByRule: [(rule: String, count: Int)] {
        var counts: [String: Int] = [:]
        for r in rejections { counts[r.rejection.rule, default: 0] += 1 }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { ($0.key, $0.value) }
    }

    public static func == (a: RobotHistory, b: RobotHistory) -> Bool {
        a.cycles == b.cycles && a.signals == b.signals && a.breakerEvents == b.breakerEvents && a.rejections == b.rejections
            && a.problems.map(\.time) == b.problems.map(\.time) && a.problems.map(\.text) == b.problems.map(\.text)
    }
}
