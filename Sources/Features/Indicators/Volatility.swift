import Foundation
import MarketData

/// Volatility indicators equal to TA-Lib's: ATR, NATR, BBANDS, STDDEV; plus Bollinger %B and bandwidth.
///
///     let bands = Indicators.bollinger(closes, period: 20, deviations: 2)
///     bands.upper[19]   // SMA(20) + 2·σ, σ the population standard deviation
extension Indicators {
    /// Average true range with Wilder smoothing seeded by the SMA of the first `period` true ranges
    /// (`TA_ATR`); lookback `period`.
    public static func atr(high: Input, low: Input, close: Input, period: Int) -> [Double] {
        Kernels.array(close.count) { atr(high: high, low: low, close: close, period: period, into: $0) }
    }

    /// `atr` over a bar series — the one ATR of the project (the simulator's ATR slippage, the strategies' and the
    /// robot's ATR stops use it too). NaN for the first `period` bars, and everywhere when `period` >= the bar count.
    ///
    ///     let atr14 = Indicators.atr(bars, period: 14)     // atr14[14] = mean of true ranges 1...14
    public static func atr(_ bars: BarSeries, period: Int) -> [Double] {
        bars.high.withUnsafeBufferPointer { h in
            bars.low.withUnsafeBufferPointer { l in
                bars.close.withUnsafeBufferPointer { c in atr(high: h, low: l, close: c, period: period) }
            }
        }
    }

    /// `atr` written into `out` (length n), for indicators that build on it without a temporary array.
    static func atr(high: Input, low: Input, close: Input, period: Int, into out: Kernels.Output) {
        let n = close.count
        guard period >= 1, period < n else { Kernels.fillNaN(out, 0..<n); return }
        Kernels.fillNaN(out, 0..<period)
        if period == 1 {
            for i in 1..<n { out[i] = Kernels.trueRange(high: high[i], low: low[i], previousClose: close[i - 1]) }
            return
        }
        // TA_INT_SMA over the true-range buffer (which starts at bar 1), then Wilder's update.
        var total = 0.0
        for i in 1...period { total += Kernels.trueRange(high: high[i], low: low[i], previousClose: close[i - 1]) }
        let p = Double(period), p1 = Double(period - 1)
        var prevATR = total / p
        out[period] = prevATR
        var i = period + 1
        while i < n {
            prevATR *= p1
            prevATR += Kernels.trueRange(high: high[i], low: low[i], previousClose: close[i - 1])
            prevATR /= p
            out[i] = prevATR
            i += 1
        }
    }

    /// ATR as a percentage of the close, (ATR / close)·100 (`TA_NATR`); lookback `period`.
    public static func natr(high: Input, low: Input, close: Input, period: Int) -> [Double] {
        var values = atr(high: high, low: low, close: close, period: period)
        for i in values.indices where !values[i].isNaN {
            let c = close[i]
            values[i] = !Kernels.isZero(c) ? (values[i] / c) * 100.0 : 0.0
        }
        return values
    }

    /// Population standard deviation times `deviations` (`TA_STDDEV`; see `Kernels.deviation`); lookback period−1.
    public static func stddev(_ x: Input, period: Int, deviations: Double = 1.0) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            Kernels.deviation(x, period: period, into: out)
            if deviations != 1.0 { for i in 0..<n { out[i] *= deviations } }
        }
    }

    /// Bollinger bands with an SMA middle band (`TA_BBANDS`, matype SMA, the same deviation multiple up and
    /// down), plus %B = (close − lower)/(upper − lower) and bandwidth = (upper − lower)/middle (0 where the
    /// denominator is 0); lookback period−1.
    public static func bollinger(_ x: Input, period: Int, deviations: Double)
        -> (upper: [Double], middle: [Double], lower: [Double], percentB: [Double], bandwidth: [Double])
    {
        let n = x.count
        let middle = Kernels.array(n) { Kernels.sma(x, period: period, into: $0) }
        let (upper, lower, percentB, bandwidth) = Kernels.arrays(n) { upper, lower, percentB, bandwidth in
            Kernels.deviation(x, period: period, into: upper)   // σ, replaced by the band bar by bar
            for i in 0..<n {
                let m = middle[i]
                if m.isNaN { upper[i] = .nan; lower[i] = .nan; percentB[i] = .nan; bandwidth[i] = .nan; continue }
                let sigma = upper[i]
                let d = deviations == 1.0 ? sigma : sigma * deviations
                let u = m + d, l = m - d
                upper[i] = u
                lower[i] = l
                let width = u - l
                percentB[i] = width != 0 ? (x[i] - l) / width : 0.0
                bandwidth[i] = m != 0 ? width / m : 0.0
            }
        }
        return (upper, middle, lower, percentB, bandwidth)
    }
}
