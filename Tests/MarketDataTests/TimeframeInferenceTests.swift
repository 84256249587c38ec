import Common
import Foundation
import Testing
@testable import MarketData

/// `Timeframe.infer` / `checkSpacing`: the bar interval from the spacing of timestamps, robust to weekends,
/// holidays, closures and missing bars; a stated timeframe that contradicts it is an error.
@Suite struct TimeframeInferenceTests {
    static let hour = UTCTime.msPerHour, day = UTCTime.msPerDay, minute = UTCTime.msPerMinute

    /// Weekday (Mon–Fri) times at `hours` (UTC, may be fractional) from 2020-01-06 (a Monday), skipping `holidays`
    /// (day numbers from the start).
    static func weekdays(days: Int, hours: [Double], holidays: Set<Int> = []) -> [Int64] {
        let monday = UTCTime.milliseconds(year: 2020, month: 1, day: 6)
        var out: [Int64] = []
        for d in 0..<days where d % 7 < 5 && !holidays.contains(d) {
            for h in hours { out.append(monday + Int64(d) * day + Int64(h * Double(hour))) }
        }
        return out
    }

    /// A deterministic pseudo-random keep/drop pattern (LCG), keeping about `keep` of the items.
    static func thin(_ t: [Int64], keep: Double, seed: UInt64 = 42) -> [Int64] {
        var state = seed
        return t.filter { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) < keep
        }
    }

    @Test func samples() throws {
        let eurusd = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        let goog = try CSVBarReader().read(path: Samples.goog, symbol: "GOOG", timeframe: .d1)
        #expect(try eurusd.inferredTimeframe() == .h1)
        #expect(try goog.inferredTimeframe() == .d1)
        try eurusd.checkTimeframe()
        try goog.checkTimeframe()
        // GOOG_D1.csv read as hourly (the old `backtest --data GOOG_D1.csv` default) is refused.
        var mislabelled = goog
        mislabelled.timeframe = .h1
        #expect(throws: TimeframeSpacingError.self) { try mislabelled.checkTimeframe() }
        do {
            try Timeframe.h1.checkSpacing(of: goog.timestamps)
        } catch {
            guard case .contradicts(.h1, .d1?, let share, 0, _, let n) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(n == goog.count - 1 && share > 0.7)
            #expect(error.description.hasPrefix("bars are spaced 1d (1d apart: "))
            #expect(error.description.hasSuffix("of \(n) spacings; 1h apart: 0.0 %), not 1h as stated"))
        }
        #expect(throws: TimeframeSpacingError.self) { try Timeframe.d1.checkSpacing(of: eurusd.timestamps) }
        #expect(throws: TimeframeSpacingError.self) { try Timeframe.h4.checkSpacing(of: eurusd.timestamps) }
    }

    @Test func dailyEquitiesWithWeekendsAndHolidays() throws {
        let t = Self.weekdays(days: 400, hours: [0], holidays: [14, 46, 100, 101, 102, 240, 353])
        #expect(try Timeframe.infer(timestamps: t) == .d1)
        // Daily FX bars stamped at the New York close: 21:00 UTC in summer, 22:00 in winter (23 h / 25 h spacings).
        let fx = Self.weekdays(days: 400, hours: [21]).enumerated().map { i, x in x + (i % 130 < 65 ? 0 : Self.hour) }
        #expect(try Timeframe.infer(timestamps: fx) == .d1)
    }

    @Test func intradayWithClosuresAndMissingBars() throws {
        // FX hourly, 24 h on weekdays, a fifth of the bars missing.
        let fx = Self.thin(Self.weekdays(days: 60, hours: (0..<24).map(Double.init)), keep: 0.8)
        #expect(try Timeframe.infer(timestamps: fx) == .h1)
        // US equities: 9:30–15:30 New York as hourly bars (14:30 ... 20:30 UTC), 17.5 h overnight gaps.
        let equities = Self.weekdays(days: 60, hours: [14.5, 15.5, 16.5, 17.5, 18.5, 19.5, 20.5])
        #expect(try Timeframe.infer(timestamps: equities) == .h1)
        // 4-hour equity bars: one 4 h spacing and one 20 h overnight spacing a day.
        #expect(try Timeframe.infer(timestamps: Self.weekdays(days: 60, hours: [13.5, 17.5])) == .h4)
        // A sparse minute series: 85 % of the minutes have no bar.
        let minutes = (0..<20_000).map { UTCTime.milliseconds(year: 2024, month: 3, day: 4) + Int64($0) * Self.minute }
        #expect(try Timeframe.infer(timestamps: Self.thin(minutes, keep: 0.15)) == .m1)
        // Five-minute bars with a few stray bars one minute after another.
        var five = (0..<5_000).map { UTCTime.milliseconds(year: 2024, month: 3, day: 4) + Int64($0) * 5 * Self.minute }
        for k in stride(from: 100, to: 5_000, by: 500) { five.insert(five[k] + Self.minute, at: k + 1) }
        #expect(try Timeframe.infer(timestamps: five) == .m5)
        #expect(try Timeframe.infer(timestamps: (0..<500).map { Int64($0) * 15 * Self.minute }) == .m15)
        #expect(try Timeframe.infer(timestamps: (0..<500).map { Int64($0) * 30 * Self.minute }) == .m30)
    }

    @Test func weeklyAndMonthly() throws {
        // Weekly bars on Mondays, a holiday week opening on Tuesday.
        var weekly = (0..<150).map { UTCTime.milliseconds(year: 2020, month: 1, day: 6) + Int64($0) * 7 * Self.day }
        weekly[20] += Self.day
        #expect(try Timeframe.infer(timestamps: weekly) == .w1)
        // Monthly bars on the first weekday of each month.
        let monthly = (0..<60).map { k -> Int64 in
            var t = UTCTime.milliseconds(year: 2015 + k / 12, month: k % 12 + 1, day: 1)
            while UTCTime.components(t).weekday >= 6 { t += Self.day }
            return t
        }
        #expect(try Timeframe.infer(timestamps: monthly) == .mn1)
        try Timeframe.mn1.checkSpacing(of: monthly)
        #expect(throws: TimeframeSpacingError.self) { try Timeframe.w1.checkSpacing(of: monthly) }
    }

    @Test func spacingsThatAreNoTimeframe() {
        let twoHours = (0..<100).map { Int64($0) * 2 * Self.hour }
        #expect(throws: TimeframeSpacingError.noTimeframeFits(typical: 2 * Self.hour, share: 1, spacings: 99)) {
            try Timeframe.infer(timestamps: twoHours)
        }
        #expect(TimeframeSpacingError.noTimeframeFits(typical: 2 * Self.hour, share: 1, spacings: 99).description
            == "bar spacing matches no timeframe (1m 5m 15m 30m 1h 4h 1d 1w 1M): most bars are 2h apart "
            + "(100.0 % of 99 spacings)")
        do {
            try Timeframe.h1.checkSpacing(of: twoHours)
            Issue.record("2-hour bars accepted as 1h")
        } catch {
            #expect(error.description == "bars are spaced 2h, which is no timeframe (2h apart: 100.0 % of 99 "
                + "spacings; 1h apart: 0.0 %), not 1h as stated")
        }
        #expect(throws: TimeframeSpacingError.tooFewBars(1)) { try Timeframe.infer(timestamps: [Int64(0)]) }
        #expect(throws: TimeframeSpacingError.tooFewBars(0)) { try Timeframe.infer(timestamps: [Int64]()) }
        // Nothing to contradict with fewer than two bars.
        #expect(throws: Never.self) { try Timeframe.d1.checkSpacing(of: [Int64(5)]) }
        #expect(TimeframeSpacing.duration(3 * Self.day + 2 * Self.hour) == "3d 2h")
        #expect(TimeframeSpacing.duration(90_000) == "1m 30s")
    }
}
