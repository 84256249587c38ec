import Common

/// What the circuit breakers look at, once per bar (and after every fill or venue call) — built by the robot from
/// its account, its `DailyCounters` and its data feed.
///
///     BreakerObservation(time: now, equity: 9_680, startOfDayEquity: 10_000, peakEquity: 10_400,
///                        consecutiveLosses: 2, volatilityRatio: 1.3, dataAge: 20_000, brokerFailures: 0)
public struct BreakerObservation: Sendable, Equatable {
    /// Milliseconds since the epoch.
    public var time: Int64
    public var equity: Double
    /// Equity at the start of the current session day (`DailyCounters`).
    public var startOfDayEquity: Double
    /// Highest equity seen.
    public var peakEquity: Double
    /// Losing closed trades in a row (0 after a winner).
    public var consecutiveLosses: Int
    /// Current realised volatility over its recent median; NaN = unknown (no breaker decision either way).
    public var volatilityRatio: Double
    /// Age of the newest market data in milliseconds.
    public var dataAge: Int64
    /// Consecutive failed venue calls (0 after a success).
    public var brokerFailures: Int
    /// The trading session day `time` belongs to (`MarketCalendar.sessionDay(at:)`, `DailyCounters.sessionDay`);
    /// nil = the UTC date. The daily-loss breaker clears only on a later session day.
    public var sessionDay: Int64?

    public init(time: Int64, equity: Double, startOfDayEquity: Double, peakEquity: Double, consecutiveLosses: Int,
                volatilityRatio: Double, dataAge: Int64, brokerFailures: Int, sessionDay: Int64? = nil) {
        self.time = time
        self.equity = equity
        self.startOfDayEquity = startOfDayEquity
        self.peakEquity = peakEquity
        self.consecutiveLosses = consecutiveLosses
        self.volatilityRatio = volatilityRatio
        self.dataAge = dataAge
        self.brokerFailures = brokerFailures
        self.sessionDay = sessionDay
    }

    /// `sessionDay`, or the UTC date of `time`.
    public var effectiveSessionDay: Int64 { sessionDay ?? UTCTime.floorDiv(time, UTCTime.msPerDay) }
}

/// A breaker tripping (`tripped` true) or resetting (false), with the reason in the user's terms.
///
///     BreakerEvent(kind: .dailyLoss, tripped: true, time: t,
///                  reason: "daily loss 3.2 % ≥ limit 3.0 % of start-of-day equity 10 000.00", until: nil)
public struct BreakerEvent: Sendable, Equatable, Codable {
    public var kind: BreakerKind
    /// true = tripped, false = reset.
    public var tripped: Bool
    public var time: Int64
    public var reason: String
    /// For a trip: the earliest time it may reset (its cool-down's end); nil = manual reset only (or, for the daily
    /// loss breaker with no cool-down, the next session day).
    public var until: Int64?

    public init(kind: BreakerKind, tripped: Bool, time: Int64, reason: String, until: Int64?) {
        self.kind = kind
        self.tripped = tripped
        self.time = time
        self.reason = reason
        self.until = until
    }
}
