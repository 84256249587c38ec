import Common
import Foundation

/// Why a pipeline step failed.
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    case source(SourceError)
    case storage(String)
    case resample(TimeframeTransformer.ResampleError)
    /// Nothing stored from which the requested timeframe can be served.
    case noData(symbol: String, timeframe: Timeframe)

    public var description: String {
        switch self {
        case .source(let e): "source: \(e)"
        case .storage(let m): m
        case .resample(let e): e.description
        case .noData(let s, let tf): "no stored bars for \(s) at \(tf) or any finer timeframe (import or fetch first)"
        }
    }
}

/// Fetches bars from a source into a store, keeps them up to date, and serves any range at any timeframe.
///
///     let pipeline = DataPipeline(source: AlpacaSource(configuration: .fromEnvironment()),
///                                 storage: try ParquetBarStore(root: "data/store"))
///     try await pipeline.fetchAndStore(symbol: "AAPL", timeframe: .h1, start: from, end: to)
///     try await pipeline.updateLatest(symbol: "AAPL", timeframe: .h1)           // from the last stored bar
///     let daily = try pipeline.getData(symbol: "AAPL", timeframe: .d1, start: from, end: to)   // resampled from 1h
///     let gaps = try pipeline.gapReport(symbol: "AAPL", timeframe: .h1, calendar: .usEquities)
public struct DataPipeline: Sendable {
    public let source: any DataSource
    public let storage: any BarStorage
    /// Day/week/month boundaries for serving coarser timeframes by resampling.
    public var bins: BinCalendar
    /// The wall clock (UTC ms); replaceable in tests.
    public var now: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    public init(source: any DataSource, storage: any BarStorage, bins: BinCalendar = .utc) {
        self.source = source
        self.storage = storage
        self.bins = bins
    }

    /// What one fetch-and-store did.
    public struct Result: Equatable, Sendable, CustomStringConvertible {
        public var symbol: String
        public var timeframe: Timeframe
        public var fetched: Int
        public var added: Int
        /// Bars left out because they were still forming (their period had not ended).
        public var incomplete: Int
        public var start: Int64
        public var end: Int64

        public var description: String {
            "\(symbol) \(timeframe): fetched \(fetched), added \(added)"
                + (incomplete > 0 ? ", skipped \(incomplete) unfinished" : "")
                + " [\(UTCTime.iso8601(start)), \(UTCTime.iso8601(end)))"
        }
    }

    /// Fetches `[start, end)` and merges it into the store. Bars whose period has not ended yet are not stored
    /// (a forming bar would later conflict with its final version).
    @discardableResult
    public func fetchAndStore(symbol: String, timeframe: Timeframe, start: Int64, end: Int64)
        async throws(PipelineError) -> Result
    {
        let series: BarSeries
        do {
            series = try await source.fetchOHLCV(symbol: symbol, timeframe: timeframe, start: start, end: end)
        } catch {
            throw .source(error)
        }
        let clock = now()
        var complete = series.count
        while complete > 0 && bins.binEnd(after: series.timestamps[complete - 1], timeframe) > clock { complete -= 1 }
        let finished = series[0..<complete]
        let added: Int
        do {
            added = finished.isEmpty ? 0 : try storage.merge(finished, source: source.name)
        } catch {
            throw .storage("\(error)")
        }
        let result = Result(symbol: symbol, timeframe: timeframe, fetched: series.count, added: added,
                            incomplete: series.count - complete, start: start, end: end)
        Log.info("stored bars", ["symbol": symbol, "timeframe": timeframe.description, "source": source.name,
                                 "fetched": "\(series.count)", "added": "\(added)"])
        return result
    }

    /// Fetches from just after the last stored bar up to now (or from `initialStart` when nothing is stored).
    /// Never stores a bar twice.
    @discardableResult
    public func updateLatest(symbol: String, timeframe: Timeframe, initialStart: Int64? = nil)
        async throws(PipelineError) -> Result
    {
        let last: Int64?
        do {
            last = try storage.lastTimestamp(symbol: symbol, timeframe: timeframe)
        } catch {
            throw .storage("\(error)")
        }
        let end = now()
        guard let start = last.map({ bins.binEnd(after: $0, timeframe) }) ?? initialStart else {
            throw .noData(symbol: symbol, timeframe: timeframe)
        }
        guard start < end else {
            return Result(symbol: symbol, timeframe: timeframe, fetched: 0, added: 0, incomplete: 0, start: start, end: end)
        }
        return try await fetchAndStore(symbol: symbol, timeframe: timeframe, start: start, end: end)
    }

    /// Bars of `timeframe` in `[start, end)`: read as stored, or resampled from the coarsest stored finer
    /// timeframe that builds it exactly. Resampled ranges are widened to whole bins.
    public func getData(symbol: String, timeframe: Timeframe, start: Int64? = nil, end: Int64? = nil)
        throws(PipelineError) -> BarSeries
    {
        let stored: [StoredSeries]
        do {
            stored = try storage.catalogue().filter { $0.symbol == symbol && $0.rows > 0 }
        } catch {
            throw .storage("\(error)")
        }
        if stored.contains(where: { $0.timeframe == timeframe }) {
            do {
                return try storage.bars(symbol: symbol, timeframe: timeframe, start: start, end: end)
            } catch {
                throw .storage("\(error)")
            }
        }
        let candidates = stored.map(\.timeframe).filter { TimeframeTransformer.canResample(from: $0, to: timeframe) }
        guard let base = candidates.max() else { throw .noData(symbol: symbol, timeframe: timeframe) }
        let from = start.map { bins.binStart($0, timeframe) }
        let to = end.map { e in
            let b = bins.binStart(e, timeframe)
            return b == e ? e : bins.binEnd(after: b, timeframe)
        }
        let fine: BarSeries
        do {
            fine = try storage.bars(symbol: symbol, timeframe: base, start: from, end: to)
        } catch {
            throw .storage("\(error)")
        }
        do {
            return try TimeframeTransformer(calendar: bins).resample(fine, to: timeframe)
        } catch {
            throw .resample(error)
        }
    }

    /// Gaps in the stored `timeframe` bars against a market calendar.
    public func gapReport(symbol: String, timeframe: Timeframe, calendar: MarketCalendar, start: Int64? = nil,
                          end: Int64? = nil, minimumGapBars: Int = 1) throws(PipelineError) -> GapReport
    {
        let series = try getData(symbol: symbol, timeframe: timeframe, start: start, end: end)
        let report = GapDetector(calendar: calendar, bins: bins, minimumGapBars: minimumGapBars)
            .report(series, start: start, end: end)
        Log.info("gap report", ["symbol": symbol, "timeframe": timeframe.description, "calendar": calendar.description,
                                "expected": "\(report.expectedBars)", "missing": "\(report.missingBars)",
                                "gaps": "\(report.gaps.count)"])
        return report
    }
}
