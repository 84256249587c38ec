import Foundation
import MarketData

/// Loads a bar file for every command that reads bars from a file (`indicators compute`, `backtest --data`): CSV in
/// any layout `CSVBarReader` reads, or Parquet (the bar store's layout or pandas/pyarrow's, see
/// `BarSeries(parquet:)`). Bars are checked by the store's rules (`BarValidator`) either way: a file `aitrader data
/// import` refuses is refused here, naming the CSV line or Parquet row. The symbol defaults to the file name's
/// first `_`-separated word; the timeframe is inferred from the bar spacing (`Timeframe.infer`) unless given, and a
/// given one the spacing contradicts (daily bars called `1h`) is refused (`TimeframeSpacingError`).
///
///     let bars = try BarFile.load(path: "data/sample/GOOG_D1.csv")   // symbol GOOG, timeframe 1d
public enum BarFile {
    public static func load(path: String, symbol: String? = nil, timeframe: Timeframe? = nil,
                            format: CSVFormat = CSVFormat()) throws -> BarSeries {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let symbol = symbol ?? String(name.split(separator: "_").first ?? Substring(name))
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        var bars: BarSeries
        if ext == "parquet" {
            bars = try BarSeries.readParquet(path: path, symbol: symbol, timeframe: timeframe ?? .d1)
        } else {
            bars = try CSVBarReader(format: format).read(path: path, symbol: symbol, timeframe: timeframe ?? .d1)
        }
        do {
            if let timeframe {
                bars.timeframe = timeframe
                try bars.checkTimeframe()
            } else {
                bars.timeframe = try bars.inferredTimeframe()
            }
        } catch {
            throw DataError(file: path, reason: "\(error)")
        }
        return bars
    }
}
