/// Volume indicators equal to TA-Lib's (OBV, AD, ADOSC) plus Chaikin money flow and a session-anchored VWAP.
///
///     let obv = Indicators.obv(close: c, volume: v)   // obv[0] = v[0], as TA-Lib starts it
extension Indicators {
    /// On-balance volume (`TA_OBV`): starts at the first bar's volume; no warm-up.
    public static func obv(close: Input, volume: Input) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            guard n > 0 else { return }
            var obv = volume[0]
            var prev = close[0]
            for i in 0..<n {
                let c = close[i]
                if c > prev { obv += volume[i] } else if c < prev { obv -= volume[i] }
                out[i] = obv
                prev = c
            }
        }
    }

    /// The money-flow multiplier times volume, ((c − l) − (h − c)) / (h − l) · v, 0 for a bar with no range.
    @inline(__always) static func moneyFlowVolume(_ h: Double, _ l: Double, _ c: Double, _ v: Double) -> Double {
        let range = h - l
        return range > 0.0 ? (((c - l) - (h - c)) / range) * v : 0.0
    }

    /// Chaikin accumulation/distribution line (`TA_AD`); no warm-up.
    public static func ad(high: Input, low: Input, close: Input, volume: Input) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            var ad = 0.0
            for i in 0..<n {
                let range = high[i] - low[i]
                if range > 0.0 { ad += (((close[i] - low[i]) - (high[i] - close[i])) / range) * volume[i] }
                out[i] = ad
            }
        }
    }

    /// Chaikin A/D oscillator: EMA(fast) − EMA(slow) of the A/D line, both EMAs seeded with the first A/D value
    /// (`TA_ADOSC`); lookback max(fast, slow) − 1.
    public static func adosc(high: Input, low: Input, close: Input, volume: Input, fast: Int, slow: Int) -> [Double] {
        let n = close.count
        let lookback = max(fast, slow) - 1
        return Kernels.array(n) { out in
            Kernels.fillNaN(out, 0..<min(lookback, n))
            guard n > 0 else { return }
            let fastK = Kernels.emaFactor(fast), slowK = Kernels.emaFactor(slow)
            let oneMinusFast = 1.0 - fastK, oneMinusSlow = 1.0 - slowK
            var ad = 0.0
            @inline(__always) func accumulate(_ i: Int) {
                let range = high[i] - low[i]
                if range > 0.0 { ad += (((close[i] - low[i]) - (high[i] - close[i])) / range) * volume[i] }
            }
            accumulate(0)
            var fastEMA = ad, slowEMA = ad
            var i = 1
            while i < n {
                accumulate(i)
                fastEMA = (fastK * ad) + (oneMinusFast * fastEMA)
                slowEMA = (slowK * ad) + (oneMinusSlow * slowEMA)
                if i >= lookback { out[i] = fastEMA - slowEMA }
                i += 1
            }
            if lookback == 0 { out[0] = 0.0 }
        }
    }

    /// Chaikin money flow: Σ money-flow volume / Σ volume over `period` bars (0 when volume is 0);
    /// lookback period−1.
    public static func cmf(high: Input, low: Input, close: Input, volume: Input, period: Int) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            let first = period - 1
            Kernels.fillNaN(out, 0..<min(first, n))
            guard first < n else { return }
            var flow = 0.0, vol = 0.0
            for i in 0..<n {
                flow += moneyFlowVolume(high[i], low[i], close[i], volume[i])
                vol += volume[i]
                if i >= period {
                    let j = i - period
                    flow -= moneyFlowVolume(high[j], low[j], close[j], volume[j])
                    vol -= volume[j]
                }
                if i >= first { out[i] = vol > 0 ? flow / vol : 0.0 }
            }
        }
    }

    /// Volume-weighted average typical price ((h+l+c)/3), reset at the start of each session: each UTC day for
    /// intraday bars (`anchorMs` = one day), or any other anchor length in milliseconds. A session with no volume
    /// so far gives the typical price. No warm-up.
    public static func vwap(timestamps: UnsafeBufferPointer<Int64>, high: Input, low: Input, close: Input,
                            volume: Input, anchorMs: Int64 = 86_400_000) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            var session = Int64.min
            var pv = 0.0, vol = 0.0
            for i in 0..<n {
                let s = floorDivide(timestamps[i], anchorMs)
                if s != session { session = s; pv = 0; vol = 0 }
                let tp = (high[i] + low[i] + close[i]) / 3.0
                pv += tp * volume[i]
                vol += volume[i]
                out[i] = vol > 0 ? pv / vol : tp
            }
        }
    }

    @inline(__always) static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
