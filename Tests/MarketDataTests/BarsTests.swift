import Common
import Foundation
import Testing
@testable import MarketData

/// The bundled samples, found from this file's location (tests run from any directory).
enum Samples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var eurusd: String { root.appendingPathComponent("data/sample/EURUSD_H1.csv").path }
    static var goog: String { root.appendingPathComponent("data/sample/GOOG_D1.csv").path }
}

@Suite struct TimeframeTests {
    @Test func parsesVendorSpellings() throws {
        #expect(try Timeframe(parsing: "1h") == .h1)
        #expect(try Timeframe(parsing: "H1") == .h1)
        #expect(try Timeframe(parsing: "1Hour") == .h1)
        #expect(try Timeframe(parsing: "60min") == .h1)
        #expect(try Timeframe(parsing: "4Hour") == .h4)
        #expect(try Timeframe(parsing: "1Min") == .m1)
        #expect(try Timeframe(parsing: "M15") == .m15)
        #expect(try Timeframe(parsing: "1Day") == .d1)
        #expect(try Timeframe(parsing: "1Week") == .w1)
        #expect(try Timeframe(parsing: "1M") == .mn1)
        #expect(try Timeframe(parsing: "MN1") == .mn1)
        #expect(try Timeframe(parsing: "1Month") == .mn1)
        #expect(throws: Timeframe.ParseError.self) { try Timeframe(parsing: "7h") }
        #expect(throws: Timeframe.ParseError.self) { try Timeframe(parsing: "hourly-ish") }
    }

    @Test func printsCanonically() {
        #expect(Timeframe.allCases.map(\.description) == ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"])
    }
}

@Suite struct UTCTimeTests {
    @Test func roundTripsCivilDates() {
        let t = UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9)
        #expect(t == 1_492_592_400_000)
        #expect(UTCTime.iso8601(t) == "2017-04-19T09:00:00Z")
        #expect(UTCTime.components(t).weekday == 3)
        #expect(UTCTime.iso8601(-1) == "1969-12-31T23:59:59.999Z")
        for day in stride(from: Int64(-800_000), to: 800_000, by: 997) {
            let (y, m, d) = UTCTime.civil(days: day)
            #expect(UTCTime.days(year: y, month: m, day: d) == day)
        }
    }

    @Test func parsesCommonLayouts() {
        #expect(UTCTime.parse("2004-08-19") == UTCTime.milliseconds(year: 2004, month: 8, day: 19))
        #expect(UTCTime.parse("2017.04.19 09:00") == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9))
        #expect(UTCTime.parse("2017-04-19T09:00:00.250Z")
            == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9, millisecond: 250))
        #expect(UTCTime.parse("2017-04-19T09:00:00-04:00") == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 13))
        #expect(UTCTime.parse("2017-02-30") == nil)
        #expect(UTCTime.parse("19/04/2017") == nil)
    }
}

@Suite struct CSVBarReaderTests {
    @Test func readsBundledSamples() throws {
        let eur = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        #expect(eur.count == 5000)
        #expect(eur[0] == Bar(timestamp: UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9),
                              open: 1.0716, high: 1.0722, low: 1.07083, close: 1.07219, volume: 1413))
        let goog = try CSVBarReader().read(path: Samples.goog, symbol: "GOOG", timeframe: .d1)
        #expect(goog.count == 2148)
        #expect(goog.close[1] == 108.31)
    }

    @Test func slicesWithoutCopyingAndByTime() throws {
        let eur = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        let from = UTCTime.milliseconds(year: 2017, month: 4, day: 20)
        let to = UTCTime.milliseconds(year: 2017, month: 4, day: 21)
        let day = eur.slice(from: from, to: to)
        #expect(day.count == 24)
        #expect(day.timestamps[0] == from)
        #expect(day[2..<4].close[0] == day.close[2])
    }

    @Test func namesFileLineAndFieldOnBadInput() {
        let reader = CSVBarReader()
        let header = ",Open,High,Low,Close,Volume\n"
        func failure(_ body: String) -> DataError? {
            do {
                _ = try reader.parse(header + body, file: "x.csv", symbol: "X", timeframe: .h1)
                return nil
            } catch { return error }
        }
        #expect(failure("2017-01-01 00:00:00,1,2,0.5,1.5,10\n2017-01-01 01:00:00,1,abc,0.5,1.5,10\n")
            == DataError(file: "x.csv", line: 3, field: "High", reason: "not a number: 'abc'"))
        #expect(failure("2017-01-01 00:00:00,1,2,0.5,nan,10\n")?.field == "Close")
        #expect(failure("2017-01-01 01:00:00,1,2,0.5,1.5,10\n2017-01-01 00:00:00,1,2,0.5,1.5,10\n")?.reason
            .contains("out of order") == true)
        #expect(failure("2017-01-01 01:00:00,1,2,0.5,1.5,10\n2017-01-01 01:00:00,1,2,0.5,1.5,10\n")?.reason
            .contains("duplicate") == true)
        #expect(failure("yesterday,1,2,0.5,1.5,10\n")?.line == 2)
        #expect(failure("2017-01-01 00:00:00,1,2\n")?.reason.contains("expected 6 fields") == true)
    }
}
