import Foundation

/// Indicators beyond TA-Lib: Ichimoku, SuperTrend, Keltner and Donchian channels. All are causal: a value at bar
/// t uses bars ≤ t only.
///
///     let st = Indicators.superTrend(high: h, low: l, close: c, period: 10, multiplier: 3)
///     st.direction[20]   // +1 up-trend, −1 down-trend
extension Indicators {
    /// Ichimoku lines as a trader sees them at bar t, without look-ahead:
    /// - tenkan = midpoint of the `tenkan`-bar high/low range (lookback tenkan−1),
    /// - kijun = midpoint of the `kijun`-bar range (lookback kijun−1),
    /// - senkouA/senkouB = the cloud plotted at bar t, i.e. (tenkan+kijun)/2 and the `senkou`-bar midpoint
    ///   computed `kijun` bars earlier (the chart shifts them forward; nothing is pulled back from the future),
    /// - chikou = close[t] − close[t − kijun]: what the lagging span shows (today's close against the price
    ///   `kijun` bars ago) expressed as a value known at t (the usual chart shifts the close into the past).
    public static func ichimoku(high: Input, low: Input, close: Input, tenkan: Int, kijun: Int, senkou: Int)
        -> (tenkan: [Double], kijun: [Double], senkouA: [Double], senkouB: [Double], chikou: [Double])
    {
        let n = close.count
        let t = Kernels.array(n) { Kernels.rangeMidpoint(high: high, low: low, period: tenkan, into: $0) }
        let k = Kernels.array(n) { Kernels.rangeMidpoint(high: high, low: low, period: kijun, into: $0) }
        // the senkou-bar midpoint as plotted: computed kijun bars earlier
        let senkouB = Kernels.array(n) { Kernels.rangeMidpoint(high: high, low: low, period: senkou, shift: kijun, into: $0) }
        let (senkouA, chikou) = Kernels.arrays(n) { a, ch in
            Kernels.fillNaN(a, 0..<min(kijun, n)); Kernels.fillNaN(ch, 0..<min(kijun, n))
            var i = kijun
            while i < n {
                a[i] = (t[i - kijun] + k[i - kijun]) / 2.0
                ch[i] = close[i] - close[i - kijun]
                i += 1
            }
        }
        return (t, k, senkouA, senkouB, chikou)
    }

    /// SuperTrend on (h+l)/2 ± multiplier·ATR(period) (TA-Lib's Wilder ATR), as TradingView's `ta.supertrend`:
    /// the final lower band rises unless the previous close fell below it (the upper band likewise falls); in a
    /// down-trend the direction turns up when the close exceeds the final upper band, in an up-trend down when it
    /// falls below the final lower band; the first bar with an ATR starts in a down-trend. `line` is the active
    /// band (lower in an up-trend), `direction` +1 (up-trend) or −1 (TradingView prints the opposite sign).
    /// Lookback `period`.
    public static func superTrend(high: Input, low: Input, close: Input, period: Int, multiplier: Double)
        -> (line: [Double], direction: [Double])
    {
        let n = close.count
        return Kernels.arrays(n) { line, direction in
        atr(high: high, low: low, close: close, period: period, into: line)   // replaced by the line bar by bar
        Kernels.fillNaN(direction, 0..<min(period, n))
        guard period < n else { return }
        var upper = 0.0, lower = 0.0, dir = 1.0
        for i in period..<n {
            let mid = (high[i] + low[i]) / 2.0
            let range = line[i]
            let basicUpper = mid + multiplier * range
            let basicLower = mid - multiplier * range
            if i == period {
                upper = basicUpper
                lower = basicLower
                dir = -1   // TradingView: na(atr[1]) -> down-trend
            } else {
                let previousClose = close[i - 1]
                upper = (basicUpper < upper || previousClose > upper) ? basicUpper : upper
                lower = (basicLower > lower || previousClose < lower) ? basicLower : lower
                if dir < 0 && close[i] > upper { dir = 1 } else if dir > 0 && close[i] < lower { dir = -1 }
            }
            line[i] = dir > 0 ? lower : upper
            direction[i] = dir
        }
        }
    }

    /// Keltner channels: EMA(period) middle line ± multiplier·ATR(period); lookback `period` (ATR's).
    public static func keltner(high: Input, low: Input, close: Input, period: Int, multiplier: Double)
        -> (upper: [Double], middle: [Double], lower: [Double])
    {
        let n = close.count
        return Kernels.arrays(n) { upper, middle, lower in
            Kernels.ema(close, period: period, into: middle)
            atr(high: high, low: low, close: close, period: period, into: upper)   // ATR, replaced by the band
            for i in 0..<n {
                let m = middle[i], r = upper[i]
                if m.isNaN || r.isNaN {
                    upper[i] = .nan; middle[i] = .nan; lower[i] = .nan
                } else {
                    upper[i] = m + multiplier * r
                    lower[i] = m - multiplier * r
                }
            }
        }
    }

    /// Donchian channels: highest high, lowest low and their midpoint over `period` bars; lookback period−1.
    public static func donchian(high: Input, low: Input, period: Int) -> (upper: [Double], middle: [Double], lower: [Double]) {
        let n = high.count
        return Kernels.arrays(n) { upper, middle, lower in
            let first = period - 1
            Kernels.fillNaN(upper, 0..<min(first, n)); Kernels.fillNaN(middle, 0..<min(first, n))
            Kernels.fillNaN(lower, 0..<min(first, n))
            guard first < n else { return }
            Kernels.blockRange(high: high, low: low, period: period) { i, h, l in
                upper[i] = h; lower[i] = l; middle[i] = (h + l) / 2.0
            }
        }
    }
}
