import Engine
import Foundation
import MarketData

/// Training windows for the engine demo: per bar the log return and the log high/low range (standardised with the
/// training part's mean and std), `window` bars per sample, label 1 when the close `horizon` bars after the
/// window's last bar is higher. Chronological split: the first `trainFraction` of the windows train, the rest
/// validate.
struct DirectionWindows {
    static let featureCount = 2
    let window: Int
    let horizon: Int
    /// (bars - 1) x 2 standardised features, row-major, starting at bar 1.
    let features: [Float]
    /// Index (into feature rows) of each sample's last bar, and its label.
    let ends: [Int]
    let labels: [Float]
    let trainCount: Int

    init(_ bars: BarSeries, window: Int, horizon: Int, trainFraction: Double = 0.8) throws {
        let close = bars.close.array, high = bars.high.array, low = bars.low.array
        guard bars.count > window + horizon + 10 else {
            throw UsageError("\(bars.count) bars are too few for windows of \(window) and horizon \(horizon)")
        }
        var raw: [Double] = []
        for t in 1 ..< bars.count {
            raw.append(log(close[t] / close[t - 1]))
            raw.append(log(high[t] / max(low[t], 1e-12)))
        }
        var ends: [Int] = [], labels: [Float] = []
        // feature row r describes bar r + 1.
        for end in (window - 1) ..< (bars.count - 1 - horizon) {
            ends.append(end)
            labels.append(close[end + 1 + horizon] > close[end + 1] ? 1 : 0)
        }
        let trainCount = Int(Double(ends.count) * trainFraction)
        // Standardise with statistics of the rows the training windows can see.
        let trainRows = ends[trainCount - 1] + 1
        var out = [Float](repeating: 0, count: raw.count)
        for f in 0 ..< Self.featureCount {
            var sum = 0.0, sq = 0.0
            for r in 0 ..< trainRows { sum += raw[r * 2 + f]; sq += raw[r * 2 + f] * raw[r * 2 + f] }
            let mean = sum / Double(trainRows)
            let std = max((sq / Double(trainRows) - mean * mean).squareRoot(), 1e-12)
            for r in 0 ..< raw.count / 2 { out[r * 2 + f] = Float((raw[r * 2 + f] - mean) / std) }
        }
        self.window = window
        self.horizon = horizon
        self.features = out
        self.ends = ends
        self.labels = labels
        self.trainCount = trainCount
    }

    var validationRange: Range<Int> { trainCount ..< ends.count }

    /// (B, window, 2) inputs and B labels of the given samples.
    func batch(_ samples: [Int]) -> (x: [Float], labels: [Float]) {
        var x: [Float] = []
        x.reserveCapacity(samples.count * window * Self.featureCount)
        for s in samples {
            let first = ends[s] - window + 1
            x.append(contentsOf: features[(first * 2) ..< ((ends[s] + 1) * 2)])
        }
        return (x, samples.map { labels[$0] })
    }
}
