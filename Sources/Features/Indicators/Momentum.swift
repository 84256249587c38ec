/// Momentum oscillators equal to TA-Lib's: MACD, RSI, CMO, STOCH, STOCHRSI, WILLR, CCI, ROC, MOM, MFI, TRIX,
/// ULTOSC, PPO.
///
///     let rsi = closes.withUnsafeBufferPointer { Indicators.rsi($0, period: 14) }   // rsi[0..<14] NaN
extension Indicators {
    /// MACD line, signal and histogram (`TA_MACD`, with TA-Lib's seeding: both EMAs start `signal-1` bars before
    /// the first output, so the fast EMA is seeded later than the slow one). Lookback slow−1 + signal−1.
    public static func macd(_ x: Input, fast: Int, slow: Int, signal: Int)
        -> (macd: [Double], signal: [Double], histogram: [Double])
    {
        let n = x.count
        let (fastP, slowP) = slow < fast ? (slow, fast) : (fast, slow)
        let lookbackSignal = signal - 1
        let lookback = lookbackSignal + slowP - 1
        let lineStart = slowP - 1   // first bar where the MACD line exists
        guard lookback < n else {
            let none = [Double](repeating: .nan, count: n)
            return (none, none, none)
        }
        // The MACD line from `lineStart` on (slow EMA seeded at 0, fast EMA seeded `fast-1` bars before lineStart).
        let line = Kernels.array(n) { out in
            Kernels.fillNaN(out, 0..<lineStart)
            let kSlow = Kernels.emaFactor(slowP), kFast = Kernels.emaFactor(fastP)
            var slow = 0.0, fast = 0.0
            for i in 0...lineStart { slow += x[i] }
            slow /= Double(slowP)
            for i in (lineStart - fastP + 1)...lineStart { fast += x[i] }
            fast /= Double(fastP)
            out[lineStart] = fast - slow
            var i = lineStart + 1
            while i < n {
                let v = x[i]
                slow = ((v - slow) * kSlow) + slow
                fast = ((v - fast) * kFast) + fast
                out[i] = fast - slow
                i += 1
            }
        }
        let (macdOut, sig, hist) = Kernels.arrays(n) { m, s, h in
            Kernels.fillNaN(m, 0..<lookback); Kernels.fillNaN(s, 0..<lookback); Kernels.fillNaN(h, 0..<lookback)
            let k = Kernels.emaFactor(signal)
            var prev = 0.0
            for i in lineStart...lookback { prev += line[i] }
            prev /= Double(signal)
            m[lookback] = line[lookback]; s[lookback] = prev; h[lookback] = line[lookback] - prev
            var i = lookback + 1
            while i < n {
                let v = line[i]
                prev = ((v - prev) * k) + prev
                m[i] = v; s[i] = prev; h[i] = v - prev
                i += 1
            }
        }
        return (macdOut, sig, hist)
    }

    /// Relative strength index with Wilder smoothing (`TA_RSI`); lookback `period`.
    public static func rsi(_ x: Input, period: Int) -> [Double] {
        wilderOscillator(x, period: period) { gain, loss in
            let sum = gain + loss
            return !Kernels.isZero(sum) ? 100.0 * (gain / sum) : 0.0
        }
    }

    /// Chande momentum oscillator (`TA_CMO`, Wilder-smoothed like RSI); lookback `period`.
    public static func cmo(_ x: Input, period: Int) -> [Double] {
        wilderOscillator(x, period: period) { gain, loss in
            let sum = gain + loss
            return !Kernels.isZero(sum) ? 100.0 * ((gain - loss) / sum) : 0.0
        }
    }

    /// The average gain/loss loop RSI and CMO share.
    @inline(__always) static func wilderOscillator(_ x: Input, period: Int, _ value: (Double, Double) -> Double) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            guard period < n, period >= 2 else { Kernels.fillNaN(out, 0..<n); return }
            Kernels.fillNaN(out, 0..<period)
            let p = Double(period), p1 = Double(period - 1)
            var prevValue = x[0]
            var gain = 0.0, loss = 0.0
            var today = 1
            for _ in 0..<period {
                let v = x[today]
                today += 1
                let d = v - prevValue
                prevValue = v
                if d < 0 { loss -= d } else { gain += d }
            }
            loss /= p
            gain /= p
            out[period] = value(gain, loss)
            while today < n {
                let v = x[today]
                let d = v - prevValue
                prevValue = v
                loss *= p1
                gain *= p1
                if d < 0 { loss -= d } else { gain += d }
                loss /= p
                gain /= p
                out[today] = value(gain, loss)
                today += 1
            }
        }
    }

    /// Raw stochastic %K ((c − lowest) / (highest − lowest) · 100) over `period` bars of the given series,
    /// starting at `start`; TA-Lib's STOCH/STOCHF formula, 0 when the range is zero.
    static func fastK(high: Input, low: Input, close: Input, period: Int, start: Int) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            let first = start + period - 1
            Kernels.fillNaN(out, 0..<min(first, n))
            guard first < n else { return }
            Kernels.blockRange(high: high, low: low, period: period, start: start) { i, h, l in
                let diff = h - l
                out[i] = diff != 0.0 ? (close[i] - l) / diff * 100.0 : 0.0
            }
        }
    }

    /// Slow stochastic %K and %D with SMA smoothing (`TA_STOCH`, matype SMA); lookback
    /// fastK−1 + slowK−1 + slowD−1 for both outputs.
    public static func stoch(high: Input, low: Input, close: Input, fastK kPeriod: Int, slowK: Int, slowD: Int)
        -> (k: [Double], d: [Double])
    {
        let n = close.count
        let raw = fastK(high: high, low: low, close: close, period: kPeriod, start: 0)
        let lookback = kPeriod - 1 + slowK - 1 + slowD - 1
        return raw.withUnsafeBufferPointer { raw in
            Kernels.arrays(n) { k, d in
                Kernels.sma(raw, period: slowK, start: kPeriod - 1, into: k)
                Kernels.sma(UnsafeBufferPointer(k), period: slowD, start: kPeriod - 1 + slowK - 1, into: d)
                Kernels.fillNaN(k, 0..<min(lookback, n))   // %K reported from %D's first bar, as TA-Lib does
            }
        }
    }

    /// Stochastic RSI (`TA_STOCHRSI`, fastd matype SMA): fast %K and %D of RSI(period); lookback
    /// period + fastK−1 + fastD−1.
    public static func stochRSI(_ x: Input, period: Int, fastK kPeriod: Int, fastD: Int) -> (k: [Double], d: [Double]) {
        let n = x.count
        let r = rsi(x, period: period)
        var k = r.withUnsafeBufferPointer { b in fastK(high: b, low: b, close: b, period: kPeriod, start: period) }
        let d = k.withUnsafeBufferPointer { b in
            Kernels.array(n) { Kernels.sma(b, period: fastD, start: period + kPeriod - 1, into: $0) }
        }
        let lookback = period + kPeriod - 1 + fastD - 1
        k.withUnsafeMutableBufferPointer { Kernels.fillNaN($0, 0..<min(lookback, n)) }   // reported from %D's first bar
        return (k, d)
    }

    /// Williams %R (`TA_WILLR`); lookback period−1.
    public static func willr(high: Input, low: Input, close: Input, period: Int) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            let first = period - 1
            Kernels.fillNaN(out, 0..<min(first, n))
            guard first < n else { return }
            Kernels.blockRange(high: high, low: low, period: period) { i, h, l in
                let diff = (h - l) / (-100.0)
                out[i] = diff != 0.0 ? (h - close[i]) / diff : 0.0
            }
        }
    }

    /// Commodity channel index (`TA_CCI`: typical price, mean deviation, constant 0.015); lookback period−1.
    /// Sums run over TA-Lib's circular buffer in slot order, so rounding matches too.
    public static func cci(high: Input, low: Input, close: Input, period: Int) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            guard period - 1 < n, period >= 2 else { Kernels.fillNaN(out, 0..<n); return }
            Kernels.fillNaN(out, 0..<(period - 1))
            let p = Double(period)
            @inline(__always) func typical(_ i: Int) -> Double { (high[i] + low[i] + close[i]) / 3 }
            @inline(__always) func cci(_ last: Double, _ average: Double, _ deviation: Double) -> Double {
                let t = last - average
                return (t != 0.0 && deviation != 0.0) ? t / (0.015 * (deviation / p)) : 0.0
            }
            withUnsafeTemporaryAllocation(of: Double.self, capacity: period) { ring in
                var slot = 0
                var i = 0
                while i < period - 1 { ring[slot] = typical(i); slot += 1; i += 1 }
                // Two bars at a time: the later bar's ring is the earlier bar's with one slot replaced, so both
                // bars' sums run in the same slot order (same rounding) as two independent chains.
                while i + 1 < n {
                    let lastA = typical(i)
                    ring[slot] = lastA
                    slot += 1
                    if slot == period { slot = 0 }
                    let lastB = typical(i + 1), slotB = slot
                    let replaced = ring[slotB]   // bar i + 1 − period: still in bar i's window
                    ring[slotB] = lastB
                    slot += 1
                    if slot == period { slot = 0 }
                    var averageA = 0.0, averageB = 0.0
                    for j in 0..<period {
                        let v = ring[j]
                        averageA += j == slotB ? replaced : v
                        averageB += v
                    }
                    averageA /= p
                    averageB /= p
                    var deviationA = 0.0, deviationB = 0.0
                    for j in 0..<period {
                        let v = ring[j]
                        deviationA += abs((j == slotB ? replaced : v) - averageA)
                        deviationB += abs(v - averageB)
                    }
                    out[i] = cci(lastA, averageA, deviationA)
                    out[i + 1] = cci(lastB, averageB, deviationB)
                    i += 2
                }
                if i < n {
                    let last = typical(i)
                    ring[slot] = last
                    var average = 0.0
                    for j in 0..<period { average += ring[j] }
                    average /= p
                    var deviation = 0.0
                    for j in 0..<period { deviation += abs(ring[j] - average) }
                    out[i] = cci(last, average, deviation)
                }
            }
        }
    }

    /// Rate of change in percent, ((x / x[−period]) − 1)·100 (`TA_ROC`); lookback `period`.
    public static func roc(_ x: Input, period: Int, start: Int = 0) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            let first = start + period
            Kernels.fillNaN(out, 0..<min(first, n))
            var i = first
            while i < n {
                let previous = x[i - period]
                out[i] = previous != 0.0 ? ((x[i] / previous) - 1.0) * 100.0 : 0.0
                i += 1
            }
        }
    }

    /// Momentum x − x[−period] (`TA_MOM`); lookback `period`.
    public static func mom(_ x: Input, period: Int) -> [Double] {
        let n = x.count
        return Kernels.array(n) { out in
            Kernels.fillNaN(out, 0..<min(period, n))
            var i = period
            while i < n { out[i] = x[i] - x[i - period]; i += 1 }
        }
    }

    /// Money flow index (`TA_MFI`); lookback `period`. A typical-price change within TA-Lib's zero tolerance
    /// (1e-8) counts as no change; 0 while total money flow is below 1 (TA-Lib's guard).
    public static func mfi(high: Input, low: Input, close: Input, volume: Input, period: Int) -> [Double] {
        let n = close.count
        return Kernels.array(n) { out in
            guard period < n, period >= 2 else { Kernels.fillNaN(out, 0..<n); return }
            Kernels.fillNaN(out, 0..<period)
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * period) { rings in
            let positive = UnsafeMutableBufferPointer(rebasing: rings[0..<period])
            let negative = UnsafeMutableBufferPointer(rebasing: rings[period...])
            var slot = 0
            var prevValue = (high[0] + low[0] + close[0]) / 3.0
            var posSum = 0.0, negSum = 0.0
            @inline(__always) func push(_ today: Int) {
                var tp = (high[today] + low[today] + close[today]) / 3.0
                let d = tp - prevValue
                prevValue = tp
                tp *= volume[today]
                // branch-free (the sign of d is a coin flip on market data); adding 0 leaves a sum unchanged
                let significant = !Kernels.isZero(d)
                let neg = d < 0 && significant ? tp : 0.0
                let pos = d > 0 && significant ? tp : 0.0
                negative[slot] = neg; negSum += neg
                positive[slot] = pos; posSum += pos
                slot += 1
                if slot == period { slot = 0 }
            }
            for today in 1...period { push(today) }
            @inline(__always) func emit(_ i: Int) {
                let total = posSum + negSum
                out[i] = total < 1.0 ? 0.0 : 100.0 * (posSum / total)
            }
            emit(period)
            var today = period + 1
            while today < n {
                posSum -= positive[slot]
                negSum -= negative[slot]
                push(today)
                emit(today)
                today += 1
            }
            }
        }
    }

    /// TRIX: 1-bar rate of change (percent) of a triple EMA (`TA_TRIX`); lookback 3·(period−1) + 1.
    public static func trix(_ x: Input, period: Int) -> [Double] {
        Kernels.array(x.count) { out in
            let lookback = 3 * (period - 1) + 1
            Kernels.fillNaN(out, 0..<min(lookback, x.count))
            var previous = Double.nan
            Kernels.emaChain(x, period: period, depth: 3) { i, _, _, e3 in
                if i >= lookback { out[i] = previous != 0.0 ? ((e3 / previous) - 1.0) * 100.0 : 0.0 }
                previous = e3
            }
        }
    }

    /// Ultimate oscillator (`TA_ULTOSC`), weights 4/2/1 for the shortest/middle/longest period;
    /// lookback = longest period.
    public static func ultosc(high: Input, low: Input, close: Input, periods: (Int, Int, Int)) -> [Double] {
        let n = close.count
        let sorted = [periods.0, periods.1, periods.2].sorted()
        let (p1, p2, p3) = (sorted[0], sorted[1], sorted[2])
        let lookback = p3
        return Kernels.array(n) { out in
            guard lookback < n else { Kernels.fillNaN(out, 0..<n); return }
            Kernels.fillNaN(out, 0..<lookback)
            @inline(__always) func terms(_ day: Int) -> (Double, Double) {
                let lt = low[day], ht = high[day], cy = close[day - 1]
                let trueLow = lt < cy ? lt : cy
                let closeMinusTrueLow = close[day] - trueLow
                var range = ht - lt
                var t = abs(cy - ht)
                if t > range { range = t }
                t = abs(cy - lt)
                if t > range { range = t }
                return (closeMinusTrueLow, range)
            }
            // each bar's terms are computed once and kept for p3 bars in a ring (power-of-two size, masked index)
            var size = 1
            while size < p3 + 1 { size <<= 1 }
            let mask = size - 1
            withUnsafeTemporaryAllocation(of: (Double, Double).self, capacity: size) { ring in
            var i = 1
            while i < lookback { ring[i & mask] = terms(i); i += 1 }
            func prime(_ period: Int) -> (Double, Double) {
                var a = 0.0, b = 0.0
                var i = lookback - period + 1
                while i < lookback { let (c, r) = ring[i & mask]; a += c; b += r; i += 1 }
                return (a, b)
            }
            var (a1, b1) = prime(p1), (a2, b2) = prime(p2), (a3, b3) = prime(p3)
            var today = lookback
            var trailing1 = today - p1 + 1, trailing2 = today - p2 + 1, trailing3 = today - p3 + 1
            while today < n {
                let (c, r) = terms(today)
                ring[today & mask] = (c, r)
                a1 += c; a2 += c; a3 += c
                b1 += r; b2 += r; b3 += r
                var output = 0.0
                if !Kernels.isZero(b1) { output += 4.0 * (a1 / b1) }
                if !Kernels.isZero(b2) { output += 2.0 * (a2 / b2) }
                if !Kernels.isZero(b3) { output += a3 / b3 }
                var t = ring[trailing1 & mask]; a1 -= t.0; b1 -= t.1
                t = ring[trailing2 & mask]; a2 -= t.0; b2 -= t.1
                t = ring[trailing3 & mask]; a3 -= t.0; b3 -= t.1
                out[today] = 100.0 * (output / 7.0)
                trailing1 += 1; trailing2 += 1; trailing3 += 1
                today += 1
            }
            }
        }
    }

    /// Percentage price oscillator ((fast − slow) / slow · 100, `TA_PPO`) with SMA (TA-Lib's default) or EMA
    /// averages; lookback slow−1.
    public static func ppo(_ x: Input, fast: Int, slow: Int, exponential: Bool = false) -> [Double] {
        let n = x.count
        let (fastP, slowP) = slow < fast ? (slow, fast) : (fast, slow)
        let lookback = slowP - 1
        let s = Kernels.array(n) { out in
            exponential ? Kernels.ema(x, period: slowP, into: out) : Kernels.sma(x, period: slowP, into: out)
        }
        let f = Kernels.array(n) { out in
            exponential ? Kernels.ema(x, period: fastP, start: lookback - (fastP - 1), into: out)
                : Kernels.sma(x, period: fastP, into: out)
        }
        return Kernels.array(n) { out in
            for i in 0..<n {
                let slowValue = s[i]
                out[i] = slowValue.isNaN ? .nan : (!Kernels.isZero(slowValue) ? ((f[i] - slowValue) / slowValue) * 100.0 : 0.0)
            }
        }
    }
}
