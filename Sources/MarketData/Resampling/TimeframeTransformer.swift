import Common

/// Resamples bars to a coarser timeframe: Open = first, High = max, Low = min, Close = last, Volume = sum.
///
/// Bins are closed and labelled on the left (a bar's timestamp is its open time), days/weeks/months follow the
/// `BinCalendar` (UTC midnight by default; weeks start on Monday, months on the 1st), and bins without any input bar
/// are not fabricated. On the default calendar the result equals pandas
/// `df.resample(rule).agg({"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}).dropna()`
/// with rule `4h`, `1D`, `W-MON` (label/closed left) or `MS`.
///
///     let hourly = try CSVBarReader().read(path: "data/sample/EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
///     let daily = try TimeframeTransformer().resample(hourly, to: .d1)
///     let fxDaily = try TimeframeTransformer(calendar: .fxNewYork).resample(hourly, to: .d1)   // 17:00 NY days
public struct TimeframeTransformer: Sendable {
    public var calendar: BinCalendar

    public init(calendar: BinCalendar = .utc) {
        self.calendar = calendar
    }

    public enum ResampleError: Error, CustomStringConvertible, Equatable, Sendable {
        /// The target is finer than the source, or cannot be built from it (weeks do not tile months).
        case incompatible(from: Timeframe, to: Timeframe)

        public var description: String {
            switch self {
            case .incompatible(let from, let to):
                "cannot resample \(from) bars to \(to): the target must be coarser and made of whole source bars"
            }
        }
    }

    /// Whether `source` bars tile bins of `target` exactly (on a whole-hour day boundary).
    public static func canResample(from source: Timeframe, to target: Timeframe) -> Bool {
        if source == target { return true }
        if source > target { return false }
        switch (source, target) {
        case (.w1, _): return false            // weeks straddle month boundaries
        case (.mn1, _): return false
        case (_, .w1), (_, .mn1), (_, .d1): return true
        default: return target.milliseconds % source.milliseconds == 0
        }
    }

    public func resample(_ series: BarSeries, to target: Timeframe) throws(ResampleError) -> BarSeries {
        guard Self.canResample(from: series.timeframe, to: target) else {
            throw .incompatible(from: series.timeframe, to: target)
        }
        if series.timeframe == target && calendar == .utc { return series }
        let n = series.count
        var ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        let estimate = max(1, Int(Int64(n) * series.timeframe.milliseconds / max(1, target.milliseconds)) + 1)
        ts.reserveCapacity(estimate); o.reserveCapacity(estimate); h.reserveCapacity(estimate)
        l.reserveCapacity(estimate); c.reserveCapacity(estimate); v.reserveCapacity(estimate)

        series.timestamps.withUnsafeBufferPointer { t in
        series.open.withUnsafeBufferPointer { op in
        series.high.withUnsafeBufferPointer { hi in
        series.low.withUnsafeBufferPointer { lo in
        series.close.withUnsafeBufferPointer { cl in
        series.volume.withUnsafeBufferPointer { vo in
            var i = 0
            while i < n {
                let start = calendar.binStart(t[i], target)
                let end = calendar.binEnd(after: start, target)
                var high = hi[i], low = lo[i], volume = vo[i]
                var j = i + 1
                while j < n && t[j] < end {
                    if hi[j] > high { high = hi[j] }
                    if lo[j] < low { low = lo[j] }
                    volume += vo[j]
                    j += 1
                }
                ts.append(start); o.append(op[i]); h.append(high); l.append(low); c.append(cl[j - 1]); v.append(volume)
                i = j
            }
        }}}}}}
        return BarSeries(symbol: series.symbol, timeframe: target, timestamps: ts, open: o, high: h, low: l, close: c,
                         volume: v)
    }
}
