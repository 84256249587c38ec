import Common

/// Bars for a symbol and timeframe as served by `ParquetBarStore.bars(symbol:timeframe:start:end:bins:)`: the
/// stored dataset, or bars resampled from a finer stored one.
public struct ServedBars: Sendable {
    public var series: BarSeries
    /// The stored dataset the bars come from (its timeframe is finer than `series.timeframe` when resampled).
    public var source: DatasetRecord
    public var resampled: Bool { source.timeframe != series.timeframe }
    /// Identifies the served content: the source dataset's content key (`DatasetRecord.contentKey`), plus the resampling (source timeframe and bin
    /// calendar) when resampled. Caches of derived data (features) key on it.
    public var contentKey: String
}

extension ParquetBarStore {
    /// Bars of `symbol` at `timeframe` with `start <= t < end` (nil = unbounded), for every command that needs bars
    /// (`data show`, `features`, `backtest`): the stored dataset when there is one; otherwise resampled
    /// (`TimeframeTransformer`, pandas-exact; bins from `bins`) from the finest stored timeframe of the symbol that
    /// builds it exactly, its range widened to whole bins. Throws `.notFound` listing what is stored for the symbol
    /// (or in the store) when nothing fits.
    ///
    ///     let daily = try store.bars(symbol: "EURUSD", timeframe: .d1, bins: .fxNewYork).series   // from 1h
    public func bars(symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil,
                     bins: BinCalendar = .utc) throws(StorageError) -> ServedBars {
        let (base, key) = try servingDataset(symbol: symbol, timeframe: timeframe, bins: bins)
        if base.timeframe == timeframe {
            return ServedBars(series: try read(symbol: symbol, timeframe: timeframe, start: start, end: end), source: base,
                              contentKey: key)
        }
        let from = start.map { bins.binStart($0, timeframe) }
        let to = end.map { e in
            let b = bins.binStart(e, timeframe)
            return b == e ? e : bins.binEnd(after: b, timeframe)
        }
        let fine = try read(symbol: symbol, timeframe: base.timeframe, start: from, end: to)
        let series: BarSeries
        do throws(TimeframeTransformer.ResampleError) {
            series = try TimeframeTransformer(calendar: bins).resample(fine, to: timeframe)
        } catch {
            throw StorageError(.invalidArgument, reason: "cannot build \(symbol) \(timeframe) from \(base.timeframe): \(error)")
        }
        return ServedBars(series: series, source: base, contentKey: key)
    }

    /// The dataset `bars(symbol:timeframe:...)` would read (without reading it) and the served content's key.
    public func servingDataset(symbol: String, timeframe: Timeframe, bins: BinCalendar = .utc)
        throws(StorageError) -> (source: DatasetRecord, contentKey: String)
    {
        let all = try datasets()
        let stored = all.filter { $0.symbol == symbol }
        if let exact = stored.first(where: { $0.timeframe == timeframe }) { return (exact, exact.contentKey) }
        let candidates = stored.filter { $0.rows > 0 && TimeframeTransformer.canResample(from: $0.timeframe, to: timeframe) }
        guard let base = candidates.min(by: { $0.timeframe < $1.timeframe }) else {
            let listed = stored.isEmpty
                ? (all.isEmpty ? "the store is empty" : "stored: " + all.map { "\($0.symbol) \($0.timeframe)" }.joined(separator: ", "))
                : "stored for \(symbol): " + stored.map { "\($0.timeframe)" }.joined(separator: ", ")
            throw StorageError(.notFound, reason: "no stored bars for \(symbol) \(timeframe), and no finer stored timeframe "
                + "of \(symbol) that \(timeframe) bars can be built from (\(listed)); import \(symbol) at \(timeframe) or finer")
        }
        return (base, "\(base.contentKey)|resampled:\(base.timeframe)->\(timeframe)|bins:\(bins)")
    }
}
