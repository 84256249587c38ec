import Common

/// The Parquet + SQLite store is the pipeline's persistent `BarStorage`: merges go through `append` (validation,
/// identical bars skipped, conflicting bars refused, atomic rewrite), reads through its row-group-pruned `read`.
extension ParquetBarStore: BarStorage {
    public func merge(_ series: BarSeries, source: String) throws -> Int {
        try append(series, source: source).rowsAdded
    }

    public func bars(symbol: String, timeframe: Timeframe, start: Int64?, end: Int64?) throws -> BarSeries {
        guard try dataset(symbol: symbol, timeframe: timeframe) != nil else {
            return .empty(symbol: symbol, timeframe: timeframe)
        }
        return try read(symbol: symbol, timeframe: timeframe, start: start, end: end)
    }

    public func catalogue() throws -> [StoredSeries] {
        try datasets().map {
            StoredSeries(symbol: $0.symbol, timeframe: $0.timeframe, rows: $0.rows, first: $0.firstTimestamp,
                         last: $0.lastTimestamp, source: $0.source)
        }
    }
}
