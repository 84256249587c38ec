import Common
import MarketData
import Trading

/// The per-session numbers the circuit breakers need: start-of-day equity (reset at the market's session boundary),
/// peak equity, the losing streak and today's realised P&L. The robot updates it on every equity mark and closed
/// trade, journals it and builds `BreakerObservation`s from it.
///
///     var day = DailyCounters(assetClass: .fx, equity: 10_000, time: mondayNoonUTC)
///     day.observe(equity: 9_700, at: mondayEveningUTC)      // false: same session (FX rolls at 17:00 New York)
///     day.observe(equity: 9_750, at: tuesdayMorningUTC)     // true: new session, startOfDayEquity = 9 750
///     day.recordClosedTrade(pnl: -40)                       // consecutiveLosses 1
///
/// Session days follow `AssetClass.calendar` (`MarketCalendar.sessionDay(at:)`): the 17:00 New York roll for FX,
/// the New York date for US equities, the UTC date for crypto.
public struct DailyCounters: Sendable, Equatable, Codable {
    public var assetClass: AssetClass
    public private(set) var sessionDay: Int64
    public private(set) var startOfDayEquity: Double
    public private(set) var peakEquity: Double
    public private(set) var lastEquity: Double
    /// Losing closed trades in a row (a winner or a break-even trade resets it).
    public private(set) var consecutiveLosses = 0
    public private(set) var realizedToday = 0.0
    public private(set) var tradesToday = 0

    public init(assetClass: AssetClass, equity: Double, time: Int64) {
        self.assetClass = assetClass
        sessionDay = assetClass.calendar.sessionDay(at: time)
        let e = equity.isFinite ? equity : 0
        startOfDayEquity = e
        peakEquity = e
        lastEquity = e
    }

    /// Records an equity mark; returns true when `time` starts a new session day (start-of-day equity becomes
    /// this equity, today's P&L and trade count restart). A non-finite equity is ignored (false).
    @discardableResult
    public mutating func observe(equity: Double, at time: Int64) -> Bool {
        guard equity.isFinite else { return false }
        let day = assetClass.calendar.sessionDay(at: time)
        var newSession = false
        if day > sessionDay {
            sessionDay = day
            startOfDayEquity = equity
            realizedToday = 0
            tradesToday = 0
            newSession = true
        }
        lastEquity = equity
        peakEquity = max(peakEquity, equity)
        return newSession
    }

    /// Records a closed trade's realised P&L (commission included). A non-finite P&L is ignored.
    public mutating func recordClosedTrade(pnl: Double) {
        guard pnl.isFinite else { return }
        consecutiveLosses = pnl < 0 ? consecutiveLosses + 1 : 0
        realizedToday += pnl
        tradesToday += 1
    }

    /// The breakers' observation at `time` from these counters and the robot's feed and venue state.
    public func observation(at time: Int64, volatilityRatio: Double, dataAge: Int64,
                            brokerFailures: Int) -> BreakerObservation {
        BreakerObservation(time: time, equity: lastEquity, startOfDayEquity: startOfDayEquity, peakEquity: peakEquity,
                           consecutiveLosses: consecutiveLosses, volatilityRatio: volatilityRatio, dataAge: dataAge,
                           brokerFailures: brokerFailures, sessionDay: sessionDay)
    }
}
