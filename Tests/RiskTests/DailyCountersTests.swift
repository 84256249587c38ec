import Common
import Foundation
import Testing
import Trading
@testable import Risk

@Suite struct DailyCountersTests {
    @Test func fxSessionRollsAtFivePMNewYork() {
        // 2024-01-09 (a Tuesday, EST = UTC−5): 21:59 UTC is 16:59 New York (Tuesday's session), 22:00 is 17:00
        // (Wednesday's session).
        let before = UTCTime.milliseconds(year: 2024, month: 1, day: 9, hour: 21, minute: 59)
        let after = UTCTime.milliseconds(year: 2024, month: 1, day: 9, hour: 22)
        var d = DailyCounters(assetClass: .fx, equity: 10_000, time: before - 3_600_000)
        let r1 = d.observe(equity: 9_700, at: before)
        #expect(!r1)
        #expect(d.startOfDayEquity == 10_000)
        let r2 = d.observe(equity: 9_650, at: after)
        #expect(r2)
        #expect(d.startOfDayEquity == 9_650)
        #expect(d.sessionDay == UTCTime.days(year: 2024, month: 1, day: 10))
        #expect(d.peakEquity == 10_000)
        let r3 = d.observe(equity: .nan, at: after + 1)
        #expect(!r3)
        #expect(d.lastEquity == 9_650)
    }

    @Test func lossStreakAndObservation() {
        var d = DailyCounters(assetClass: .crypto, equity: 1_000, time: 0)
        d.recordClosedTrade(pnl: -5)
        d.recordClosedTrade(pnl: -3)
        #expect(d.consecutiveLosses == 2 && d.tradesToday == 2 && d.realizedToday == -8)
        d.recordClosedTrade(pnl: 1)
        #expect(d.consecutiveLosses == 0)
        d.recordClosedTrade(pnl: -1)
        let o = d.observation(at: 10, volatilityRatio: .nan, dataAge: 0, brokerFailures: 0)
        #expect(o.consecutiveLosses == 1 && o.startOfDayEquity == 1_000 && o.sessionDay == 0)
    }

    @Test func jsonRoundTrip() throws {
        var d = DailyCounters(assetClass: .equities, equity: 5_000, time: 1_700_000_000_000)
        d.observe(equity: 5_100, at: 1_700_000_600_000)
        d.recordClosedTrade(pnl: -12.5)
        let back = try JSONDecoder().decode(DailyCounters.self, from: JSONEncoder().encode(d))
        #expect(back == d)
    }
}
