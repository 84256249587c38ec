/// Directional-movement and trend indicators equal to TA-Lib's: ADX, PLUS_DI, MINUS_DI, AROON (up/down/osc), SAR.
///
///     let dmi = Indicators.directionalMovement(high: h, low: l, close: c, period: 14)
///     dmi.adx[27]   // first ADX value (lookback 2·14 − 1)
extension Indicators {
    /// +DI, −DI (lookback `period`) and ADX (lookback 2·period − 1) with Wilder smoothing, as TA-Lib's
    /// `TA_PLUS_DI`, `TA_MINUS_DI` and `TA_ADX` compute them (TA-Lib's zero guards included).
    public static func directionalMovement(high: Input, low: Input, close: Input, period: Int)
        -> (plusDI: [Double], minusDI: [Double], adx: [Double])
    {
        let n = close.count
        let (plusDI, minusDI, adx) = Kernels.arrays(n) { plusDI, minusDI, adx in
            directionalMovement(high: high, low: low, close: close, period: period, plusDI: plusDI, minusDI: minusDI, adx: adx)
        }
        return (plusDI, minusDI, adx)
    }

    /// `directionalMovement` written into three buffers of length n.
    static func directionalMovement(high: Input, low: Input, close: Input, period: Int,
                                    plusDI: Kernels.Output, minusDI: Kernels.Output, adx: Kernels.Output) {
        let n = close.count
        guard period >= 2, period < n else {
            Kernels.fillNaN(plusDI, 0..<n); Kernels.fillNaN(minusDI, 0..<n); Kernels.fillNaN(adx, 0..<n)
            return
        }
        Kernels.fillNaN(plusDI, 0..<period); Kernels.fillNaN(minusDI, 0..<period); Kernels.fillNaN(adx, 0..<(2 * period - 1))
        let p = Double(period)
        let p1 = Double(period - 1)
        var prevHigh = high[0], prevLow = low[0], prevClose = close[0]
        var plusDM = 0.0, minusDM = 0.0, tr = 0.0
        var today = 0
        /// Advances one bar; returns (diffP, diffM, trueRange) of the new bar.
        @inline(__always) func advance() -> (Double, Double, Double) {
            today += 1
            let h = high[today], l = low[today]
            let diffP = h - prevHigh
            let diffM = prevLow - l
            prevHigh = h
            prevLow = l
            let range = Kernels.trueRange(high: h, low: l, previousClose: prevClose)
            prevClose = close[today]
            return (diffP, diffM, range)
        }
        for _ in 0..<(period - 1) {
            let (diffP, diffM, range) = advance()
            if diffM > 0 && diffP < diffM { minusDM += diffM } else if diffP > 0 && diffP > diffM { plusDM += diffP }
            tr += range
        }
        var sumDX = 0.0
        var prevADX = 0.0
        while today < n - 1 {
            let (diffP, diffM, range) = advance()
            minusDM -= minusDM / p
            plusDM -= plusDM / p
            if diffM > 0 && diffP < diffM { minusDM += diffM } else if diffP > 0 && diffP > diffM { plusDM += diffP }
            tr = tr - (tr / p) + range
            var dx: Double? = nil
            if !Kernels.isZero(tr) {
                let mdi = 100.0 * (minusDM / tr)
                let pdi = 100.0 * (plusDM / tr)
                plusDI[today] = pdi
                minusDI[today] = mdi
                let sum = mdi + pdi
                if !Kernels.isZero(sum) { dx = 100.0 * (abs(mdi - pdi) / sum) }
            } else {
                plusDI[today] = 0.0
                minusDI[today] = 0.0
            }
            if today <= 2 * period - 1 {
                if let dx { sumDX += dx }
                if today == 2 * period - 1 {
                    prevADX = sumDX / p
                    adx[today] = prevADX
                }
            } else {
                if let dx { prevADX = ((prevADX * p1) + dx) / p }
                adx[today] = prevADX
            }
        }
        // ADX's first value (bar 2·period − 1) is the mean of the first `period` DX values, then Wilder-smoothed.
    }

    /// Aroon up/down (100·(period − bars since highest high / lowest low) / period over period+1 bars) and the
    /// Aroon oscillator (`TA_AROON`, `TA_AROONOSC`); lookback `period`. Ties go to the most recent bar.
    public static func aroon(high: Input, low: Input, period: Int) -> (up: [Double], down: [Double], oscillator: [Double]) {
        let n = high.count
        let factor = 100.0 / Double(period)
        let p = Double(period)
        return Kernels.arrays(n) { up, down, osc in
            // positions of the extremes first, replaced by the Aroon values bar by bar
            Kernels.blockArgExtreme(high, period: period + 1, maximum: true) { i, at in up[i] = Double(at) }
            Kernels.blockArgExtreme(low, period: period + 1, maximum: false) { i, at in down[i] = Double(at) }
            Kernels.fillNaN(up, 0..<min(period, n)); Kernels.fillNaN(down, 0..<min(period, n))
            Kernels.fillNaN(osc, 0..<min(period, n))
            var i = period
            while i < n {
                let t = Double(i)
                let highIdx = up[i], lowIdx = down[i]
                up[i] = factor * (p - (t - highIdx))
                down[i] = factor * (p - (t - lowIdx))
                osc[i] = factor * (highIdx - lowIdx)
                i += 1
            }
        }
    }

    /// Parabolic SAR (`TA_SAR`: initial direction from the first bar's −DM, Wilder's rules); lookback 1.
    public static func sar(high: Input, low: Input, acceleration: Double, maximum: Double) -> [Double] {
        let n = high.count
        var out = [Double](repeating: .nan, count: n)
        guard n >= 2 else { return out }
        var af = acceleration
        if af > maximum { af = maximum }
        let step = af
        let diffP = high[1] - high[0]
        let diffM = low[0] - low[1]
        var isLong = !(diffM > 0 && diffP < diffM)
        var today = 1
        var newHigh = high[0], newLow = low[0]
        var ep: Double, sar: Double
        if isLong { ep = high[today]; sar = newLow } else { ep = low[today]; sar = newHigh }
        newLow = low[today]
        newHigh = high[today]
        while today < n {
            let prevLow = newLow, prevHigh = newHigh
            newLow = low[today]
            newHigh = high[today]
            let at = today
            today += 1
            if isLong {
                if newLow <= sar {
                    isLong = false
                    sar = ep
                    if sar < prevHigh { sar = prevHigh }
                    if sar < newHigh { sar = newHigh }
                    out[at] = sar
                    af = step
                    ep = newLow
                    sar = sar + af * (ep - sar)
                    if sar < prevHigh { sar = prevHigh }
                    if sar < newHigh { sar = newHigh }
                } else {
                    out[at] = sar
                    if newHigh > ep {
                        ep = newHigh
                        af += step
                        if af > maximum { af = maximum }
                    }
                    sar = sar + af * (ep - sar)
                    if sar > prevLow { sar = prevLow }
                    if sar > newLow { sar = newLow }
                }
            } else {
                if newHigh >= sar {
                    isLong = true
                    sar = ep
                    if sar > prevLow { sar = prevLow }
                    if sar > newLow { sar = newLow }
                    out[at] = sar
                    af = step
                    ep = newHigh
                    sar = sar + af * (ep - sar)
                    if sar > prevLow { sar = prevLow }
                    if sar > newLow { sar = newLow }
                } else {
                    out[at] = sar
                    if newLow < ep {
                        ep = newLow
                        af += step
                        if af > maximum { af = maximum }
                    }
                    sar = sar + af * (ep - sar)
                    if sar < prevHigh { sar = prevHigh }
                    if sar < newHigh { sar = newHigh }
                }
            }
        }
        return out
    }
}
