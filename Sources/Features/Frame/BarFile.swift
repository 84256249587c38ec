import Foundation
import MarketData

/// Loads a bar file for the indicator and feature commands: CSV in any layout `CSVBarReader` reads, or Parquet
/// (the bar store's layout or pandas/pyarrow's, see `BarSeries(parquet:)`). Bars are checked by the store's rules
/// (`BarValidator`) either way: a file `aitrader data import` refuses is refused here, naming the CSV line or
/// Parquet row. The symbol
/// defaults to the file name's first `_`-separated word and the timeframe is inferred from the median bar spacing
/// unless given.
///
///     let bars = try BarFile.load(path: "data/sample/GOOG_D1.csv")   // symbol GOOG, timeframe 1d
public enum BarFile {
    public static func load(path: String, symbol: String? = nil, timeframe: Timeframe? = nil) throws -> BarSeries {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let symbol = symbol ?? String(name.split(separator: "_").first ?? Substring(name))
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        var bars: BarSeries
        if ext == "parquet" {
            bars = try BarSeries.readParquet(path: path, symbol: symbol, timeframe: timeframe ?? .d1)
        } else {
            bars = try CSVBarReader().read(path: path, symbol: symbol, timeframe: timeframe ?? .d1)
        }
        if timeframe == nil { bars.timeframe = inferTimeframe(bars.timestamps) }
        return bars
    }

    /// The timeframe nearest the median spacing of `timestamps` (1d when there are fewer than two bars).
    public static func inferTimeframe(_ timestamps: Column<Int64>) -> Timeframe {
        guard timestamps.count >= 2 else { return .d1 }
        var gaps: [Int64] = []
        gaps.reserveCapacity(min(timestamps.count, 1001))
        for i in 1..<min(timestamps.count, 1001) { gaps.append(timestamps[i] - timestamps[i - 1]) }
        gaps.sort()
        let median = Double(gaps[gaps.count / 2])
        return Timeframe.allCases.min { abs(log(Double($0.milliseconds) / median)) < abs(log(Double($1.milliseconds) / median)) } ?? .d1
    }
}
