/// Moving averages, equal to TA-Lib's (`SMA`, `EMA`, `WMA`, `DEMA`, `TEMA`, `KAMA`) including warm-up length and
/// seeding. Each takes a contiguous input and returns an array of the same length, NaN during the warm-up.
///
///     let closes: [Double] = ...
///     let ema = closes.withUnsafeBufferPointer { Indicators.ema($0, period: 20) }   // ema[0..<19] are NaN
public enum Indicators {
    public typealias Input = UnsafeBufferPointer<Double>

    /// Simple moving average; lookback period-1.
    public static func sma(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { Kernels.sma(x, period: period, into: $0) }
    }

    /// Exponential moving average, k = 2/(period+1), seeded with the SMA of the first `period` values;
    /// lookback period-1.
    public static func ema(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { Kernels.ema(x, period: period, into: $0) }
    }

    /// Linearly weighted moving average (weights 1...period); lookback period-1.
    public static func wma(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { Kernels.wma(x, period: period, into: $0) }
    }

    /// Double EMA: 2·EMA − EMA(EMA); lookback 2·(period−1).
    public static func dema(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { out in
            Kernels.fillNaN(out, 0..<min(2 * (period - 1), x.count))
            Kernels.emaChain(x, period: period, depth: 2) { i, e1, e2, _ in out[i] = (2.0 * e1) - e2 }
        }
    }

    /// Triple EMA: 3·EMA1 − 3·EMA2 + EMA3; lookback 3·(period−1).
    public static func tema(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { out in
            Kernels.fillNaN(out, 0..<min(3 * (period - 1), x.count))
            Kernels.emaChain(x, period: period, depth: 3) { i, e1, e2, e3 in out[i] = e3 + ((3.0 * e1) - (3.0 * e2)) }
        }
    }

    /// Kaufman adaptive moving average (fast 2, slow 30, efficiency ratio over `period`); lookback `period`.
    public static func kama(_ x: Input, period: Int) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            guard period < n else { Kernels.fillNaN(out, 0..<n); return }
            Kernels.fillNaN(out, 0..<period)
            let constMax = 2.0 / (30.0 + 1.0)
            let constDiff = 2.0 / (2.0 + 1.0) - constMax
            var sumROC1 = 0.0
            var today = 0
            for _ in 0..<period {
                var t = x[today]
                today += 1
                t -= x[today]
                sumROC1 += abs(t)
            }
            var prevKAMA = x[today - 1]
            var trailing = 0
            var trailingValue = 0.0
            func step(update: Bool) {
                let t = x[today]
                let t2 = x[trailing]
                trailing += 1
                let periodROC = t - t2
                if update {
                    sumROC1 -= abs(trailingValue - t2)
                    sumROC1 += abs(t - x[today - 1])
                }
                trailingValue = t2
                var sc: Double
                if sumROC1 <= periodROC || Kernels.isZero(sumROC1) { sc = 1.0 } else { sc = abs(periodROC / sumROC1) }
                sc = (sc * constDiff) + constMax
                sc *= sc
                prevKAMA = ((x[today] - prevKAMA) * sc) + prevKAMA
                today += 1
            }
            step(update: false)
            out[period] = prevKAMA
            while today < n {
                step(update: true)
                out[today - 1] = prevKAMA
            }
        }
    }
}
