import Common
import Foundation

/// A seeded block bootstrap over calendar days: each resample draws as many UTC days as the samples span, with
/// replacement, and takes every sample of each drawn day (consecutive bars of a day are correlated — overlapping
/// label horizons, volatility clusters — so days, not single samples, are the independent units). The same
/// resamples serve every forecast, so differences between forecasts are paired.
///
/// - Interval: the 2.5 % and 97.5 % percentiles of the resampled statistic (linear interpolation between order
///   statistics, numpy's default), NaN resamples left out.
/// - Paired test: for a difference d (model − baseline) observed as d₀, the two-sided p-value
///   min(1, 2 · share of resamples whose d lies on the other side of 0 than d₀ (or at 0)) — the percentile-bootstrap
///   test of "no difference".
///
///     let boot = DayBlockBootstrap(timestamps: ts, resamples: 1000, seed: 7)
///     let (lo, hi) = boot.interval { rows in accuracy(rows) }
public struct DayBlockBootstrap: Sendable {
    /// Per resample, the sample indices it holds.
    public let resamples: [[Int]]
    public let days: Int

    public init(timestamps: [Int64], resamples count: Int = 1000, seed: UInt64 = 20_240_501) {
        var byDay: [Int64: [Int]] = [:], order: [Int64] = []
        for (i, t) in timestamps.enumerated() {
            let day = t >= 0 ? t / 86_400_000 : (t - 86_399_999) / 86_400_000
            if byDay[day] == nil { order.append(day) }
            byDay[day, default: []].append(i)
        }
        let blocks = order.map { byDay[$0]! }
        days = blocks.count
        var rng = SplitMix64(seed: seed)
        var out: [[Int]] = []
        out.reserveCapacity(count)
        for _ in 0 ..< (blocks.isEmpty ? 0 : count) {
            var rows: [Int] = []
            rows.reserveCapacity(timestamps.count + 64)
            for _ in 0 ..< blocks.count { rows += blocks[Int(rng.next() % UInt64(blocks.count))] }
            out.append(rows)
        }
        resamples = out
    }

    /// The statistic on every resample.
    public func values(_ statistic: ([Int]) -> Double) -> [Double] { resamples.map(statistic) }

    /// The 95 % percentile interval of `statistic`.
    public func interval(_ statistic: ([Int]) -> Double) -> (low: Double, high: Double) {
        Self.percentileInterval(values(statistic))
    }

    public static func percentileInterval(_ values: [Double]) -> (low: Double, high: Double) {
        let v = values.filter { $0.isFinite }.sorted()
        guard !v.isEmpty else { return (.nan, .nan) }
        return (percentile(v, 0.025), percentile(v, 0.975))
    }

    /// numpy's default (linear) percentile of sorted values, q in [0, 1].
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let i = Int(position.rounded(.down)), fraction = position - Double(i)
        return i + 1 < sorted.count ? sorted[i] + (sorted[i + 1] - sorted[i]) * fraction : sorted[i]
    }

    /// Two-sided bootstrap p-value of the observed difference `observed` given its resampled values.
    public static func pValue(observed: Double, resampled: [Double]) -> Double {
        let v = resampled.filter { $0.isFinite }
        guard !v.isEmpty, observed.isFinite else { return .nan }
        let other = v.filter { observed > 0 ? $0 <= 0 : observed < 0 ? $0 >= 0 : true }.count
        return min(1, 2 * Double(other) / Double(v.count))
    }
}
