import Common

/// One OHLCV bar. `timestamp` is the bar's OPEN time, UTC, in milliseconds since the epoch (see `UTCTime`).
public struct Bar: Equatable, Sendable {
    public var timestamp: Int64
    public var open: Double, high: Double, low: Double, close: Double, volume: Double

    public init(timestamp: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.timestamp = timestamp
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// A columnar OHLCV series for one symbol and timeframe: the normalised form every source returns, every store
/// keeps and every consumer (indicators, loaders, backtester) reads.
///
/// Invariants (checked by `init(validating:)`): timestamps strictly increasing (UTC epoch ms, bar open time),
/// all columns the same length. Slicing by index or time range shares storage.
///
///     let s = try CSVBarReader().read(path: "data/sample/EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
///     let april = s.slice(from: UTCTime.milliseconds(year: 2017, month: 4, day: 20),
///                         to: UTCTime.milliseconds(year: 2017, month: 5, day: 1))   // [from, to)
///     april.close[0]
public struct BarSeries: Sendable, Equatable {
    public var symbol: String
    public var timeframe: Timeframe
    public let timestamps: Column<Int64>
    public let open: Column<Double>
    public let high: Column<Double>
    public let low: Column<Double>
    public let close: Column<Double>
    public let volume: Column<Double>

    public var count: Int { timestamps.count }
    public var isEmpty: Bool { timestamps.isEmpty }

    /// Builds a series from columns without checks (for code that has already validated its input).
    public init(symbol: String, timeframe: Timeframe, timestamps: [Int64], open: [Double], high: [Double],
                low: [Double], close: [Double], volume: [Double]) {
        precondition([open.count, high.count, low.count, close.count, volume.count].allSatisfy { $0 == timestamps.count },
                     "BarSeries columns must have equal lengths")
        self.init(symbol: symbol, timeframe: timeframe, timestamps: Column(timestamps), open: Column(open),
                  high: Column(high), low: Column(low), close: Column(close), volume: Column(volume))
    }

    init(symbol: String, timeframe: Timeframe, timestamps: Column<Int64>, open: Column<Double>, high: Column<Double>,
         low: Column<Double>, close: Column<Double>, volume: Column<Double>) {
        self.symbol = symbol
        self.timeframe = timeframe
        self.timestamps = timestamps
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    public init(symbol: String, timeframe: Timeframe, bars: [Bar]) {
        self.init(symbol: symbol, timeframe: timeframe, timestamps: bars.map(\.timestamp), open: bars.map(\.open),
                  high: bars.map(\.high), low: bars.map(\.low), close: bars.map(\.close), volume: bars.map(\.volume))
    }

    public static func empty(symbol: String, timeframe: Timeframe) -> BarSeries {
        BarSeries(symbol: symbol, timeframe: timeframe, timestamps: [], open: [], high: [], low: [], close: [], volume: [])
    }

    public subscript(i: Int) -> Bar {
        Bar(timestamp: timestamps[i], open: open[i], high: high[i], low: low[i], close: close[i], volume: volume[i])
    }

    /// Bars `range` (index based), sharing storage.
    public subscript(range: Range<Int>) -> BarSeries {
        BarSeries(symbol: symbol, timeframe: timeframe, timestamps: timestamps[range], open: open[range],
                  high: high[range], low: low[range], close: close[range], volume: volume[range])
    }

    /// Bars whose timestamp t satisfies `start <= t < end` (nil = unbounded), sharing storage.
    public func slice(from start: Int64? = nil, to end: Int64? = nil) -> BarSeries {
        let lo = start.map { index(firstAtOrAfter: $0) } ?? 0
        let hi = end.map { index(firstAtOrAfter: $0) } ?? count
        return self[lo..<max(lo, hi)]
    }

    /// The first index whose timestamp is >= t (binary search), or `count`.
    public func index(firstAtOrAfter t: Int64) -> Int {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if timestamps[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public var bars: [Bar] { (0..<count).map { self[$0] } }

    /// Concatenates `other` after `self` (same symbol and timeframe; `other` must start after `self` ends).
    public func appending(_ other: BarSeries) -> BarSeries {
        precondition(isEmpty || other.isEmpty || other.timestamps[0] > timestamps[count - 1],
                     "appended bars must start after the last bar")
        return BarSeries(symbol: symbol, timeframe: timeframe, timestamps: timestamps.array + other.timestamps.array,
                         open: open.array + other.open.array, high: high.array + other.high.array,
                         low: low.array + other.low.array, close: close.array + other.close.array,
                         volume: volume.array + other.volume.array)
    }
}
