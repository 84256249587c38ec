import Foundation

/// Price-shape and calendar features: log returns, realised volatility, candle body/wick ratios and cyclical
/// time of day / day of week.
///
///     let r = Indicators.logReturn(closes, bars: 1)       // r[0] NaN, r[t] = ln(c[t]/c[t−1])
extension Indicators {
    /// ln(x[t] / x[t−bars]); lookback `bars`.
    public static func logReturn(_ x: Input, bars: Int) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            Kernels.fillNaN(out, 0..<min(bars, n))
            var i = bars
            while i < n { out[i] = log(x[i] / x[i - bars]); i += 1 }
        }
    }

    /// Realised volatility: √(Σ r²) of the last `period` one-bar log returns (not annualised); lookback `period`.
    public static func realisedVolatility(_ x: Input, period: Int) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            Kernels.fillNaN(out, 0..<min(period, n))
            guard period < n else { return }
            // squared returns of the window in a ring (power-of-two size, masked index)
            var size = 1
            while size < period + 1 { size <<= 1 }
            let mask = size - 1
            withUnsafeTemporaryAllocation(of: Double.self, capacity: size) { squares in
                @inline(__always) func square(_ i: Int) -> Double { let r = log(x[i] / x[i - 1]); return r * r }
                // A running sum, re-summed from scratch every 1024 bars so subtraction drift cannot accumulate.
                var s = 0.0
                for j in 1...period { let q = square(j); squares[j & mask] = q; s += q }
                out[period] = max(s, 0).squareRoot()
                var i = period + 1
                while i < n {
                    let q = square(i)
                    squares[i & mask] = q
                    if i % 1024 == 0 {
                        s = 0
                        for j in (i - period + 1)...i { s += squares[j & mask] }
                    } else {
                        s += q - squares[(i - period) & mask]
                    }
                    out[i] = max(s, 0).squareRoot()
                    i += 1
                }
            }
        }
    }

    /// Candle shape as fractions of the bar's range h − l: body (c − o, signed), upper wick and lower wick.
    /// A bar with no range gives zeros. No warm-up.
    public static func candleShape(open: Input, high: Input, low: Input, close: Input)
        -> (body: [Double], upperWick: [Double], lowerWick: [Double])
    {
        let n = close.count
        return Kernels.arrays(n) { body, upper, lower in
            for i in 0..<n {
                let range = high[i] - low[i]
                guard range > 0 else { body[i] = 0; upper[i] = 0; lower[i] = 0; continue }
                let o = open[i], c = close[i]
                body[i] = (c - o) / range
                upper[i] = (high[i] - max(o, c)) / range
                lower[i] = (min(o, c) - low[i]) / range
            }
        }
    }

    /// Hour of day (with minutes) and ISO day of week of the bar's open time (UTC), each as (sin, cos) of its
    /// angle on the cycle. No warm-up.
    public static func cyclicalTime(_ timestamps: UnsafeBufferPointer<Int64>)
        -> (hourSin: [Double], hourCos: [Double], weekdaySin: [Double], weekdayCos: [Double])
    {
        let n = timestamps.count
        let msPerDay: Int64 = 86_400_000, msPerMinute: Int64 = 60_000
        // Bars open on whole minutes almost always: tables of the 1440 minutes and 7 days avoid the trigonometry.
        let minuteAngles = (0..<1440).map { 2.0 * Double.pi * Double($0) / 1440.0 }
        let minuteSin = minuteAngles.map { sin($0) }, minuteCos = minuteAngles.map { cos($0) }
        let daySin = (0..<7).map { sin(2.0 * Double.pi * Double($0) / 7.0) }
        let dayCos = (0..<7).map { cos(2.0 * Double.pi * Double($0) / 7.0) }
        return Kernels.arrays(n) { hs, hc, ds, dc in
        // the day (and weekday) is recomputed only when a bar leaves the current one: intraday bars share it
        var dayStart: Int64 = 1, dayEnd: Int64 = 0, weekday = 0
        for i in 0..<n {
            let t = timestamps[i]
            if t < dayStart || t >= dayEnd {
                let day = floorDivide(t, msPerDay)
                dayStart = day * msPerDay
                dayEnd = dayStart + msPerDay
                weekday = Int(((day % 7) + 7 + 3) % 7)   // Monday = 0 (1970-01-01 was a Thursday)
            }
            let inDay = t - dayStart
            if inDay % msPerMinute == 0 {
                let minute = Int(inDay / msPerMinute)
                hs[i] = minuteSin[minute]; hc[i] = minuteCos[minute]
            } else {
                let angle = 2.0 * Double.pi * Double(inDay) / Double(msPerDay)
                hs[i] = sin(angle); hc[i] = cos(angle)
            }
            ds[i] = daySin[weekday]; dc[i] = dayCos[weekday]
        }
        }
    }
}
