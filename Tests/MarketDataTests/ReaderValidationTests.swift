import Common
import Foundation
import Testing
@testable import MarketData

/// Every bar reader applies the store's rules (`BarValidator`) and names the CSV file and 1-based line (header =
/// line 1), or the Parquet file and 1-based row, of the first bad bar.
@Suite struct ReaderValidationTests {
    static let header = "Date,Open,High,Low,Close,Volume\n"
    static let good = ["2024-01-01 00:00,1.0,1.2,0.9,1.1,10", "2024-01-01 01:00,1.1,1.3,1.0,1.2,11",
                       "2024-01-01 02:00,1.2,1.4,1.1,1.3,12"]

    /// The reader's error for the sample with its `row` (0-based data row) replaced by `bad`.
    static func csvError(row: Int, _ bad: String) -> DataError? {
        var rows = good
        rows[row] = bad
        do {
            _ = try CSVBarReader().parse(header + rows.joined(separator: "\n") + "\n", file: "bars.csv", symbol: "X", timeframe: .h1)
            return nil
        } catch { return error }
    }

    @Test func csvReaderRefusesEveryRuleAtItsLine() throws {
        let lowAboveHigh = try #require(Self.csvError(row: 1, "2024-01-01 01:00,1.1,1.0,1.3,1.2,11"))
        #expect(lowAboveHigh.description == "bars.csv:3: low 1.3 > high 1.0 (rule ohlc_consistency)")
        let openOutside = try #require(Self.csvError(row: 2, "2024-01-01 02:00,1.5,1.4,1.1,1.3,12"))
        #expect(openOutside.line == 4 && openOutside.reason.contains("open 1.5 outside [1.1, 1.4]"))
        let negativeVolume = try #require(Self.csvError(row: 0, "2024-01-01 00:00,1.0,1.2,0.9,1.1,-5"))
        #expect(negativeVolume.description == "bars.csv:2: field 'Volume': volume -5.0 < 0 (rule negative_volume)")
        let nan = try #require(Self.csvError(row: 1, "2024-01-01 01:00,1.1,NaN,1.0,1.2,11"))
        #expect(nan.line == 3 && nan.field == "High")
        let order = try #require(Self.csvError(row: 2, "2023-12-31 23:00,1.2,1.4,1.1,1.3,12"))
        #expect(order.line == 4 && order.reason.contains("out of order"))
        #expect(Self.csvError(row: 0, Self.good[0]) == nil)
    }

    @Test func keepInvalidLeavesBadRowsToTheStore() throws {
        let text = Self.header + "2024-01-01 00:00,1.0,0.8,0.9,1.1,10\n" + Self.good[1] + "\n"
        let reader = CSVBarReader(validation: .keepInvalid)
        let bars = try reader.parse(text, file: "b.csv", symbol: "X", timeframe: .h1)
        #expect(bars.count == 2)
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let r = try ParquetBarStore(root: dir).append(bars, source: "b.csv", badRows: .quarantine)
        #expect(r.rowsAdded == 1 && r.rowsQuarantined == 1)
    }

    @Test func csvSourceReadsThroughTheSameRules() async throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let file = dir + "/X_H1.csv"
        try (Self.header + Self.good[0] + "\n2024-01-01 01:00,1.1,1.3,1.0,1.2,-1\n").write(toFile: file, atomically: true, encoding: .utf8)
        let source = CSVSource(file: file, symbol: "X", timeframe: .h1)
        do {
            _ = try await source.fetchOHLCV(symbol: "X", timeframe: .h1, start: 0, end: Int64.max / 2)
            Issue.record("invalid CSV fetched")
        } catch {
            #expect("\(error)".contains("X_H1.csv:3"), "\(error)")
        }
    }

    @Test func parquetReaderRefusesInvalidRowsNamingTheRow() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        var bars = syntheticBars(10).bars
        bars[6].low = bars[6].high + 1
        let path = dir + "/bad.parquet"
        try BarSeries(symbol: "X", timeframe: .h1, bars: bars).writeParquet(to: path)
        do {
            _ = try BarSeries.readParquet(path: path, symbol: "X", timeframe: .h1)
            Issue.record("invalid Parquet read")
        } catch {
            #expect("\(error)".hasPrefix(path + ": row 7 (2024-01-01T06:00:00Z): low"), "\(error)")
            #expect("\(error)".contains("ohlc_consistency"))
        }
        try syntheticBars(10).writeParquet(to: path)
        #expect(try BarSeries.readParquet(path: path, symbol: "X", timeframe: .h1).count == 10)
    }
}
