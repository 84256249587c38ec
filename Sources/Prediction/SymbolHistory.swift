import Common
import Features
import Foundation
import MarketData
import Models

/// A symbol's bars and scaled features on every timeframe the models use, as the store serves them up to a time:
/// what both the live call and the batched series read, so that a window ending at a bar is the same floats in both.
///
/// A bar is closed at a decision time T when its close time — open time + the timeframe (the bin calendar's end for
/// days, weeks and months) — is at or before T. A resampled bin still forming at T (its finer bars not all in) closes
/// after T and is never used.
///
///     let h = try SymbolHistory(symbol: "EURUSD", end: asOf, runners: runners, conditions: timeframes, store: featureStore)
///     h.lastClosed(.h4, atOrBefore: t)   // index of the latest 4h bar closed by t
struct SymbolHistory {
    let symbol: String
    let bins: BinCalendar
    private(set) var bars: [Timeframe: BarSeries] = [:]
    private(set) var closeTimes: [Timeframe: [Int64]] = [:]
    /// Per model: the feature rows' open times and the scaled matrix (rows × F, NaN in warm-up rows).
    private(set) var features: [ModelType: (timestamps: [Int64], matrix: [Float])] = [:]

    /// Reads bars with open time before `end` (nil: all) on the runners' timeframes and `extra` ones, and each
    /// runner's features from the feature store (recomputed there first when the bars or the feature set changed).
    init(symbol: String, end: Int64?, runners: [HorizonRunner], extra: [Timeframe], store: FeatureStore) throws(PredictionError) {
        self.symbol = symbol
        self.bins = store.bins
        let timeframes = Set(runners.map(\.timeframe) + extra)
        for tf in timeframes.sorted() {
            let series: BarSeries
            do { series = try store.bars.bars(symbol: symbol, timeframe: tf, end: end, bins: store.bins).series }
            catch { throw .data(message: "\(symbol) \(tf): \(error.reason)") }
            bars[tf] = series
            closeTimes[tf] = series.timestamps.array.map { Self.closeTime(open: $0, tf, bins: store.bins) }
        }
        for r in runners {
            let frame: FeatureFrame
            do { frame = try store.features(symbol: symbol, timeframe: r.timeframe, model: r.modelType, end: end) }
            catch let e as FeatureError { throw .data(message: "\(symbol) \(r.timeframe) \(r.modelType.rawValue) features: \(e.description)") }
            catch let e as StorageError { throw .data(message: "\(symbol) \(r.timeframe): \(e.reason)") }
            catch { throw .data(message: "\(symbol) \(r.timeframe) \(r.modelType.rawValue) features: \(error)") }
            let matrix: [Float]
            do { matrix = try r.scaler.matrix(frame) }
            catch { throw .checkpoint(path: r.path, message: "its scaler does not fit the stored features: \(error.reason)") }
            features[r.modelType] = (frame.timestamps, matrix)
        }
    }

    static func closeTime(open t: Int64, _ tf: Timeframe, bins: BinCalendar) -> Int64 {
        tf.isCalendar ? bins.binEnd(after: bins.binStart(t, tf), tf) : t + tf.milliseconds
    }

    /// Index of the latest bar of `tf` closed at or before `t`, nil when none is.
    func lastClosed(_ tf: Timeframe, atOrBefore t: Int64) -> Int? {
        guard let closes = closeTimes[tf] else { return nil }
        // Close times increase with open times: binary search for the last close <= t.
        var lo = 0, hi = closes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if closes[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? nil : lo - 1
    }

    /// The model's scaled window ending at the bar of `tf` with open time `open` (L·F floats) and, for long_term,
    /// ln(close / last close) over the same bars (as training's loader computes them), or why there is none.
    func window(_ runner: HorizonRunner, barIndex i: Int, decisionTime t: Int64) throws(PredictionError) -> (features: ArraySlice<Float>, close: [Float]?) {
        let tf = runner.timeframe, l = runner.window, f = runner.featureNames.count
        let series = bars[tf]!
        let open = series.timestamps[i]
        guard let stored = features[runner.modelType], let row = Self.index(of: open, in: stored.timestamps) else {
            throw .data(message: "\(symbol) \(tf): the feature store has no \(runner.modelType.rawValue) row for the bar of "
                + "\(UTCTime.iso8601(open)); recompute with aitrader features compute --force")
        }
        guard row - l + 1 >= 0, i - l + 1 >= 0 else {
            throw .data(message: "\(symbol): \(runner.modelType.rawValue) needs \(l) closed \(tf) bars with every feature defined "
                + "before \(UTCTime.iso8601(t)), the store has \(min(row, i) + 1); import more history")
        }
        let slice = stored.matrix[((row - l + 1) * f)..<((row + 1) * f)]
        if let bad = slice.firstIndex(where: { !$0.isFinite }) {
            let k = (bad - (row - l + 1) * f)
            let barTime = stored.timestamps[row - l + 1 + k / f]
            throw .data(message: "\(symbol): \(runner.modelType.rawValue) needs \(l) closed \(tf) bars with every feature defined "
                + "before \(UTCTime.iso8601(t)); '\(runner.featureNames[k % f])' is undefined at \(UTCTime.iso8601(barTime)) "
                + "(indicator warm-up: import more history)")
        }
        var close: [Float]? = nil
        if runner.modelType.needsClose {
            let c = series.close.array
            let last = c[i]
            close = (0..<l).map { j in Float(log(c[i - l + 1 + j] / last)) }
        }
        return (slice, close)
    }

    static func index(of t: Int64, in timestamps: [Int64]) -> Int? {
        var lo = 0, hi = timestamps.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if timestamps[mid] < t { lo = mid + 1 } else { hi = mid }
        }
        return lo < timestamps.count && timestamps[lo] == t ? lo : nil
    }
}
