import Common
import Foundation
import Testing
@testable import MarketData

/// Expected bins written by tools/reference/resample_fixtures.py (pandas), read back exactly.
enum ResampleFixture {
    static func load(_ name: String) throws -> [Bar] {
        let url = Samples.root.appendingPathComponent("Tests/MarketDataTests/Fixtures/resample/\(name).csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            return Bar(timestamp: Int64(f[0])!, open: Double(f[1])!, high: Double(f[2])!, low: Double(f[3])!,
                       close: Double(f[4])!, volume: Double(f[5])!)
        }
    }
}

@Suite struct ResampleTests {
    let hourly: BarSeries
    init() throws { hourly = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1) }

    @Test(arguments: [("4h", Timeframe.h4), ("1d", .d1), ("1w", .w1), ("1M", .mn1)])
    func equalsPandasOnEURUSD(name: String, target: Timeframe) throws {
        let expected = try ResampleFixture.load("EURUSD_\(name)")
        let got = try TimeframeTransformer().resample(hourly, to: target)
        #expect(got.timeframe == target)
        #expect(got.count == expected.count)
        #expect(got.bars == expected)
    }

    @Test(arguments: [("1d", Timeframe.d1), ("1w", .w1)])
    func fxDaysStartAt17NewYork(name: String, target: Timeframe) throws {
        let expected = try ResampleFixture.load("EURUSD_\(name)_ny17")
        let got = try TimeframeTransformer(calendar: .fxNewYork).resample(hourly, to: target)
        #expect(got.count == expected.count)
        #expect(got.bars == expected)
    }

    @Test func dropsEmptyBinsAndChains() throws {
        // Weekends have no bars: no 4h bin is fabricated for them, and 1h -> 4h -> 1d equals 1h -> 1d.
        let h4 = try TimeframeTransformer().resample(hourly, to: .h4)
        for k in 1..<h4.count { #expect(h4.timestamps[k] > h4.timestamps[k - 1]) }
        let viaH4 = try TimeframeTransformer().resample(h4, to: .d1)
        #expect(viaH4 == (try TimeframeTransformer().resample(hourly, to: .d1)))
    }

    @Test func rejectsFinerOrMisalignedTargets() throws {
        let daily = try TimeframeTransformer().resample(hourly, to: .d1)
        #expect(throws: TimeframeTransformer.ResampleError.incompatible(from: .d1, to: .h4)) {
            try TimeframeTransformer().resample(daily, to: .h4)
        }
        let weekly = try TimeframeTransformer().resample(hourly, to: .w1)
        #expect(throws: TimeframeTransformer.ResampleError.self) { try TimeframeTransformer().resample(weekly, to: .mn1) }
        #expect(!TimeframeTransformer.canResample(from: .m15, to: .m5))
        #expect(TimeframeTransformer.canResample(from: .m5, to: .m15))
    }
}

@Suite struct TimeZoneRuleTests {
    @Test func newYorkDaylightSavingRules() throws {
        let ny = TimeZoneRule.newYork
        let h = UTCTime.msPerHour
        // 2017: DST from 12 March 07:00 UTC to 5 November 06:00 UTC.
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2017, month: 3, day: 12, hour: 6, minute: 59)) == -5 * h)
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2017, month: 3, day: 12, hour: 7)) == -4 * h)
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2017, month: 11, day: 5, hour: 5, minute: 59)) == -4 * h)
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2017, month: 11, day: 5, hour: 6)) == -5 * h)
        // 1987-2006 rules: first Sunday of April to last Sunday of October.
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2005, month: 4, day: 3, hour: 7)) == -4 * h)
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2005, month: 3, day: 20)) == -5 * h)
        #expect(ny.offset(atUTC: UTCTime.milliseconds(year: 2005, month: 10, day: 30, hour: 6)) == -5 * h)
        // Local -> UTC: 17:00 New York in winter and summer; the repeated hour maps to its first occurrence.
        #expect(ny.utc(fromLocal: UTCTime.milliseconds(year: 2017, month: 1, day: 2, hour: 17))
            == UTCTime.milliseconds(year: 2017, month: 1, day: 2, hour: 22))
        #expect(ny.utc(fromLocal: UTCTime.milliseconds(year: 2017, month: 7, day: 2, hour: 17))
            == UTCTime.milliseconds(year: 2017, month: 7, day: 2, hour: 21))
        #expect(ny.utc(fromLocal: UTCTime.milliseconds(year: 2017, month: 11, day: 5, hour: 1, minute: 30))
            == UTCTime.milliseconds(year: 2017, month: 11, day: 5, hour: 5, minute: 30))
    }

    @Test func matchesSystemTzDatabaseWhenInstalled() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/America/New_York") else { return }
        let system = try TimeZoneRule(parsing: "America/Indiana/Indianapolis")   // system-backed, same rules since 2006
        #expect(system.name == "America/Indiana/Indianapolis")
        let builtin = TimeZoneRule.newYork
        let zone = TimeZone(identifier: "America/New_York")!
        var t = UTCTime.milliseconds(year: 1990, month: 1, day: 1)
        var mismatches = 0
        while t < UTCTime.milliseconds(year: 2030, month: 1, day: 1) {
            let expected = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t) / 1000))) * 1000
            if builtin.offset(atUTC: t) != expected { mismatches += 1 }
            t += 7 * UTCTime.msPerHour + 3 * UTCTime.msPerDay
        }
        #expect(mismatches == 0)
    }

    @Test func parsesNamesAndOffsets() throws {
        #expect(try TimeZoneRule(parsing: "UTC") == .utc)
        #expect(try TimeZoneRule(parsing: "+02:00").offset(atUTC: 0) == 2 * UTCTime.msPerHour)
        #expect(try TimeZoneRule(parsing: "GMT-0330").offset(atUTC: 0) == -(3 * UTCTime.msPerHour + 30 * UTCTime.msPerMinute))
        #expect(try TimeZoneRule(parsing: "NY+7").offset(atUTC: UTCTime.milliseconds(year: 2017, month: 7, day: 1))
            == 3 * UTCTime.msPerHour)
        #expect(throws: TimeZoneRule.ParseError.self) { try TimeZoneRule(parsing: "Mars/Olympus") }
    }
}
