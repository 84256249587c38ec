import Common
import Foundation

/// Missing bars: a run of consecutive expected bins with no bar.
public struct Gap: Equatable, Sendable, CustomStringConvertible {
    /// Open time of the first missing bin (UTC ms).
    public var start: Int64
    /// End of the last missing bin (exclusive).
    public var end: Int64
    public var missingBars: Int

    public var description: String {
        "\(UTCTime.iso8601(start)) .. \(UTCTime.iso8601(end)) (\(missingBars) bar\(missingBars == 1 ? "" : "s"))"
    }
}

/// What `GapDetector` found for one series and range.
public struct GapReport: Equatable, Sendable, CustomStringConvertible {
    public var symbol: String
    public var timeframe: Timeframe
    public var calendar: MarketCalendar
    public var start: Int64
    public var end: Int64
    /// Bins in which the market was open at some point.
    public var expectedBars: Int
    /// Expected bins that hold a bar.
    public var presentBars: Int
    /// Bars stamped while the calendar says the market was closed (wrong calendar, wrong time zone, or bad data).
    public var barsOutsideSessions: Int
    public var gaps: [Gap]

    public var missingBars: Int { expectedBars - presentBars }
    /// Present / expected, 1 when nothing was expected.
    public var coverage: Double { expectedBars == 0 ? 1 : Double(presentBars) / Double(expectedBars) }

    public var description: String {
        var s = "\(symbol) \(timeframe) [\(UTCTime.iso8601(start)), \(UTCTime.iso8601(end))) calendar \(calendar): "
        s += "\(presentBars)/\(expectedBars) bars (" + String(format: "%.1f", coverage * 100) + "%), "
        s += "\(gaps.count) gap\(gaps.count == 1 ? "" : "s")"
        if barsOutsideSessions > 0 { s += ", \(barsOutsideSessions) bars outside sessions" }
        return s
    }
}

/// Compares a series with the bins a market calendar says should exist, and reports the missing runs.
///
/// A bin (of the series' timeframe, laid out by `bins`, as in resampling) is expected when it overlaps a trading
/// session; a bar fills the bin its timestamp falls in, so vendors that stamp daily bars at 00:00 UTC or at
/// midnight New York (05:00Z) are judged alike.
///
///     let report = GapDetector(calendar: .fx).report(hourly, start: from, end: to)
///     report.gaps.first   // 2017-06-14T03:00:00Z .. 2017-06-14T05:00:00Z (2 bars)
public struct GapDetector: Sendable {
    public var calendar: MarketCalendar
    public var bins: BinCalendar
    /// Gaps shorter than this many bars are not listed (they still count as missing).
    public var minimumGapBars: Int

    public init(calendar: MarketCalendar, bins: BinCalendar = .utc, minimumGapBars: Int = 1) {
        self.calendar = calendar
        self.bins = bins
        self.minimumGapBars = max(1, minimumGapBars)
    }

    /// Checks `[start, end)`; nil bounds mean the series' first bar / the end of its last bar.
    public func report(_ series: BarSeries, start: Int64? = nil, end: Int64? = nil) -> GapReport {
        let tf = series.timeframe
        let from = start ?? (series.isEmpty ? 0 : series.timestamps[0])
        let to = end ?? (series.isEmpty ? 0 : bins.binEnd(after: bins.binStart(series.timestamps[series.count - 1], tf), tf))
        var report = GapReport(symbol: series.symbol, timeframe: tf, calendar: calendar, start: from, end: to,
                               expectedBars: 0, presentBars: 0, barsOutsideSessions: 0, gaps: [])
        guard from < to else { return report }
        let sessions = calendar.sessions(from: from, to: to)
        let slice = series.slice(from: from, to: to)
        var k = 0   // next bar of `slice`
        var run: Gap?
        func flush() {
            if let r = run, r.missingBars >= minimumGapBars { report.gaps.append(r) }
            run = nil
        }
        var lastBin = Int64.min
        for session in sessions {
            var bin = bins.binStart(session.open, tf)
            if bin <= lastBin { bin = bins.binEnd(after: lastBin, tf) }   // already counted with the previous session
            while bin < session.close {
                let next = bins.binEnd(after: bin, tf)
                // Bars before this bin that were not matched are outside every session.
                while k < slice.count && slice.timestamps[k] < bin { report.barsOutsideSessions += 1; k += 1 }
                var filled = false
                while k < slice.count && slice.timestamps[k] < next { filled = true; k += 1 }
                report.expectedBars += 1
                if filled {
                    report.presentBars += 1
                    flush()
                } else if run != nil {
                    run!.end = next
                    run!.missingBars += 1
                } else {
                    run = Gap(start: bin, end: next, missingBars: 1)
                }
                lastBin = bin
                bin = next
            }
        }
        // A run of missing bins continues across closed periods (a weekend inside an outage is one gap).
        flush()
        report.barsOutsideSessions += slice.count - k
        return report
    }
}
