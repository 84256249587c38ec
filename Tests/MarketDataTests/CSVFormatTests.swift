import Common
import Foundation
import Testing
@testable import MarketData

@Suite struct CSVFormatTests {
    func parse(_ text: String, _ format: CSVFormat = CSVFormat(), file: String = "x.csv") throws(DataError) -> BarSeries {
        try CSVBarReader(format: format).parse(text, file: file, symbol: "X", timeframe: .h1)
    }

    func error(_ text: String, _ format: CSVFormat = CSVFormat()) -> DataError? {
        do { _ = try parse(text, format); return nil } catch { return error }
    }

    static let mt5 = """
        <DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>
        2017.04.19\t09:00:00\t1.07160\t1.07220\t1.07083\t1.07219\t1413\t0\t12
        2017.04.19\t10:00:00\t1.07214\t1.07296\t1.07214\t1.07260\t1241\t0\t10

        """

    @Test func readsMetaTraderExport() throws {
        let s = try parse(Self.mt5)
        #expect(s.count == 2)
        #expect(s[0] == Bar(timestamp: UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9), open: 1.0716,
                            high: 1.0722, low: 1.07083, close: 1.07219, volume: 1413))   // tick volume: VOL is all 0
        #expect(try parse(Self.mt5, .metaTrader) == s)
        // MetaTrader's daily export has no <TIME>; CRLF line ends and a BOM are common.
        let daily = "\u{FEFF}<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
            + "2017.04.19\t1.0716\t1.0730\t1.0700\t1.0715\t16728\t0\t10\r\n"
        #expect(try parse(daily).timestamps[0] == UTCTime.milliseconds(year: 2017, month: 4, day: 19))
    }

    @Test func serverTimeZoneIsConvertedToUTC() throws {
        var f = CSVFormat.metaTrader
        f.timeZone = try TimeZoneRule(parsing: "NY+7")   // GMT+3 in April (US DST)
        #expect(try parse(Self.mt5, f).timestamps[0] == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 6))
        f.timeZone = .newYork
        #expect(try parse(Self.mt5, f).timestamps[0] == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 13))
        // An explicit offset in the text wins over the zone option.
        var g = CSVFormat()
        g.timeZone = .newYork
        #expect(try parse("time,open,high,low,close\n2017-04-19T09:00:00+02:00,1,2,0.5,1.5\n", g).timestamps[0]
            == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 7))
    }

    @Test func explicitMappingAndDateFormat() throws {
        var f = CSVFormat()
        f.columns = try CSVColumnMapping(parsing: "time=When,open=o,high=h,low=l,close=last,volume=qty")
        f.dateFormat = try DateFormat(parsing: "%d/%m/%Y %I:%M %p")
        let text = "When;o;h;l;last;qty;junk\n19/04/2017 01:30 PM;1;2;0.5;1.5;10;x\n20/04/2017 12:00 AM;1;2;0.5;1.5;11;y\n"
        let s = try parse(text, f)
        #expect(s.timestamps.array == [UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 13, minute: 30),
                                       UTCTime.milliseconds(year: 2017, month: 4, day: 20)])
        #expect(s.close.array == [1.5, 1.5])
        #expect(s.volume.array == [10, 11])
        // Positions instead of names.
        var g = CSVFormat()
        g.columns = try CSVColumnMapping(parsing: "time=0,open=2,high=3,low=4,close=5,volume=1")
        let byIndex = try parse("t,v,o,h,l,c\n2017-01-01,7,1,2,0.5,1.5\n", g)
        #expect(byIndex[0] == Bar(timestamp: UTCTime.milliseconds(year: 2017, month: 1, day: 1), open: 1, high: 2,
                                  low: 0.5, close: 1.5, volume: 7))
    }

    @Test func headerlessFilesAndEpochTimes() throws {
        // MetaTrader 4 history export: date,time,o,h,l,c,v without a header.
        let s = try parse("2017.04.19,09:00,1.0716,1.0722,1.07083,1.07219,1413\n2017.04.19,10:00,1,2,0.5,1.5,9\n")
        #expect(s.count == 2 && s.volume[0] == 1413)
        #expect(s.timestamps[1] == UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 10))
        let epoch = try parse("ts,open,high,low,close,volume\n1492592400,1,2,0.5,1.5,1\n1492596000000,1,2,0.5,1.5,1\n")
        #expect(epoch.timestamps.array == [1_492_592_400_000, 1_492_596_000_000])
        #expect(try DateFormat(parsing: "epoch_ms").parse(Array("1492592400".utf8)[...])?.milliseconds == 1_492_592_400)
    }

    @Test func quotedFieldsAndSplitDateTimeColumns() throws {
        let s = try parse("\"Date\",\"Time\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\"\n"
            + "\"2017-04-19\",\"09:00\",\"1.5\",\"2\",\"1\",\"1.75\",\"100\"\n")
        #expect(s[0] == Bar(timestamp: UTCTime.milliseconds(year: 2017, month: 4, day: 19, hour: 9), open: 1.5,
                            high: 2, low: 1, close: 1.75, volume: 100))
    }

    @Test func errorsNameFileLineAndField() throws {
        let mt5Bad = Self.mt5.replacingOccurrences(of: "1.07296", with: "1,07296")
        #expect(error(mt5Bad) == DataError(file: "x.csv", line: 3, field: "<HIGH>", reason: "not a number: '1,07296'"))
        #expect(error("Date,Open,High,Low,Close\n2017-04-19,1,2,0.5\n")?.reason == "expected 5 fields, found 4")
        #expect(error("Date,Open,High,Close\n2017-04-19,1,2,0.5\n")?.field == "Low")
        var f = CSVFormat()
        f.dateFormat = try DateFormat(parsing: "%d/%m/%Y")
        let bad = error("Date,Open,High,Low,Close\n2017-04-19,1,2,0.5,1\n", f)
        #expect(bad?.line == 2 && bad?.field == "Date" && bad?.reason.contains("%d/%m/%Y") == true)
        f.columns = try CSVColumnMapping(parsing: "time=Stamp")
        #expect(error("Date,Open,High,Low,Close\n2017-04-19,1,2,0.5,1\n", f)?.reason.contains("no column named 'Stamp'")
            == true)
        #expect(throws: DataError.self) { try DateFormat(parsing: "%Q") }
        #expect(throws: DataError.self) { try CSVColumnMapping(parsing: "price=Close") }
    }

    @Test func fastNumberParsingEqualsStrtod() {
        let seed = SplitMix64.testSeed()
        var rng = SplitMix64(seed: seed)
        var cases = ["0", "-0", "1.", ".5", "007.250", "1e5", "1.5E-3", "123456789012345", "1234567890123456789",
                     "0.1", "0.000000000000000000000012345", "9007199254740993", "-2.5", "+3.75", "1.0716", "abc", ".",
                     "1.2.3", "5x", "nan", "inf", "0x1p3", "-", ""]
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...17, using: &rng)
            var t = String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
            let dot = Int.random(in: 0...digits, using: &rng)
            if dot < digits { t.insert(".", at: t.index(t.startIndex, offsetBy: dot)) }
            cases.append(Bool.random(using: &rng) ? "-" + t : t)
        }
        for text in cases {
            let bytes = Array(text.utf8)
            let fast = CSVLines.double(bytes, 0..<bytes.count)
            let reference = CSVLines.strtodDouble(bytes, 0..<bytes.count)
            #expect(fast?.bitPattern == reference?.bitPattern || (fast?.isNaN == true && reference?.isNaN == true),
                    "\(text): \(String(describing: fast)) vs strtod \(String(describing: reference)) (seed \(seed))")
        }
    }

    /// Random byte corruption of a MetaTrader tab export, a plain CSV with a header and a headerless one gives a
    /// series or a DataError, never a trap (20 000 rounds each ran clean). Seeded; AITRADER_FUZZ_ROUNDS for a longer search.
    @Test func survivesRandomCorruption() throws {
        let rounds = ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 300
        var plain = "time,open,high,low,close,volume\n"
        for h in 0 ..< 60 { plain += "2024-03-0\(1 + h / 24) \(String(format: "%02d", h % 24)):00:00,1.1,1.2,1.0,1.15,\(100 + h)\n" }
        let headerless = plain.split(separator: "\n").dropFirst().joined(separator: "\n")
        let inputs: [(String, CSVFormat)] = [(Self.mt5, CSVFormat()), (Self.mt5, .metaTrader), (plain, CSVFormat()),
                                             (headerless, CSVFormat())]
        for (c, (text, format)) in inputs.enumerated() {
            let clean = Array(text.utf8)
            for round in 0 ..< rounds {
                var rng = SplitMix64(seed: UInt64(c) << 32 | UInt64(round))
                var bytes = clean
                for _ in 0 ..< Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0 ..< bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                _ = try? CSVBarReader(format: format).parse(bytes: bytes, file: "x.csv", symbol: "X", timeframe: .h1)
            }
        }
    }
}
