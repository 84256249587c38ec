/// The numerical building blocks every indicator shares, written to reproduce TA-Lib's C code operation for
/// operation (same summation order, same seeding, same zero guards), so results agree with TA-Lib to the last few
/// ulps rather than merely "closely".
///
/// Conventions of every kernel here:
/// - `x` is the input, `out` the output, both of length n (`out` may be uninitialised on entry: every element is
///   written, NaN during the warm-up).
/// - `start` is the first valid input index (the input's own warm-up is skipped), so kernels compose the way
///   TA-Lib's do when one function calls another on an intermediate buffer.
///
///     // an SMA(3) over a series whose first two values are warm-up NaNs
///     Kernels.sma(x, period: 3, start: 2, into: out)   // out[0..<4] = NaN, out[4] = mean(x[2...4])
enum Kernels {
    typealias Input = UnsafeBufferPointer<Double>
    typealias Output = UnsafeMutableBufferPointer<Double>

    /// TA-Lib's `TA_IS_ZERO`: |v| < 1e-8.
    @inline(__always) static func isZero(_ v: Double) -> Bool { -0.00000001 < v && v < 0.00000001 }
    /// TA-Lib's `TA_IS_ZERO_OR_NEG`: v < 1e-8.
    @inline(__always) static func isZeroOrNegative(_ v: Double) -> Bool { v < 0.00000001 }
    /// TA-Lib's `PER_TO_K`: the EMA smoothing factor 2 / (n + 1).
    @inline(__always) static func emaFactor(_ period: Int) -> Double { 2.0 / Double(period + 1) }

    /// Writes NaN to `out[range]` (clamped to the buffer).
    @inline(__always) static func fillNaN(_ out: Output, _ range: Range<Int>) {
        let lo = max(0, range.lowerBound), hi = min(out.count, range.upperBound)
        var i = lo
        while i < hi { out[i] = .nan; i += 1 }
    }

    /// Allocates an array of `n` doubles and lets `body` initialise every element.
    @inline(__always) static func array(_ n: Int, _ body: (Output) -> Void) -> [Double] {
        [Double](unsafeUninitializedCapacity: n) { buffer, count in
            body(buffer)
            count = n
        }
    }

    /// TA-Lib's true range of bar i given the previous close (`TRUE_RANGE` macro).
    @inline(__always) static func trueRange(high h: Double, low l: Double, previousClose c: Double) -> Double {
        var out = h - l
        let a = abs(h - c)
        if a > out { out = a }
        let b = abs(l - c)
        if b > out { out = b }
        return out
    }

    // MARK: moving averages

    /// `TA_INT_SMA`: a running sum, added then trailing value removed, divided on output.
    static func sma(_ x: Input, period: Int, start: Int = 0, into out: Output) {
        let n = x.count
        let first = start + period - 1
        guard first < n else { fillNaN(out, 0..<n); return }
        fillNaN(out, 0..<first)
        let p = Double(period)
        var total = 0.0
        var i = start
        while i < first { total += x[i]; i += 1 }
        var trailing = start
        while i < n {
            total += x[i]
            let value = total
            total -= x[trailing]
            trailing += 1
            out[i] = value / p
            i += 1
        }
    }

    /// `TA_INT_EMA` (default compatibility): seeded with the SMA of the first `period` values, then
    /// `prev = (x - prev) * k + prev`. `k` defaults to 2/(period+1).
    static func ema(_ x: Input, period: Int, start: Int = 0, k: Double? = nil, into out: Output) {
        let n = x.count
        let first = start + period - 1
        guard first < n else { fillNaN(out, 0..<n); return }
        fillNaN(out, 0..<first)
        let k = k ?? emaFactor(period)
        var seed = 0.0
        var i = start
        while i <= first { seed += x[i]; i += 1 }
        var prev = seed / Double(period)
        out[first] = prev
        while i < n {
            prev = ((x[i] - prev) * k) + prev
            out[i] = prev
            i += 1
        }
    }

    /// `TA_WMA`: linearly weighted average with TA-Lib's running `periodSum`/`periodSub` update.
    static func wma(_ x: Input, period: Int, start: Int = 0, into out: Output) {
        let n = x.count
        let first = start + period - 1
        guard first < n else { fillNaN(out, 0..<n); return }
        fillNaN(out, 0..<first)
        let divider = Double((period * (period + 1)) >> 1)
        let p = Double(period)
        var periodSub = 0.0, periodSum = 0.0
        var i = start, weight = 1.0
        while i < first {
            let v = x[i]
            periodSub += v
            periodSum += v * weight
            weight += 1
            i += 1
        }
        var trailingValue = 0.0
        var trailing = start
        while i < n {
            let v = x[i]
            periodSub += v
            periodSub -= trailingValue
            periodSum += v * p
            trailingValue = x[trailing]
            trailing += 1
            out[i] = periodSum / divider
            periodSum -= periodSub
            i += 1
        }
    }

    /// `TA_INT_VAR`: population variance from running sums of x and x².
    static func variance(_ x: Input, period: Int, start: Int = 0, into out: Output) {
        let n = x.count
        let first = start + period - 1
        guard first < n else { fillNaN(out, 0..<n); return }
        fillNaN(out, 0..<first)
        let p = Double(period)
        var total1 = 0.0, total2 = 0.0
        var i = start
        while i < first {
            let v = x[i]
            total1 += v
            total2 += v * v
            i += 1
        }
        var trailing = start
        while i < n {
            let v = x[i]
            total1 += v
            total2 += v * v
            let mean1 = total1 / p
            let mean2 = total2 / p
            let t = x[trailing]
            trailing += 1
            total1 -= t
            total2 -= t * t
            out[i] = mean2 - (mean1 * mean1)
            i += 1
        }
    }

    /// Rolling population standard deviation √(Σ (x − mean)² / period) in O(1) per bar: running sums of the
    /// deviations from an anchor value inside the window, re-anchored (and re-summed) every `period` bars, so the
    /// sums never cancel more than a few window variances' worth. Agrees with a two-pass computation (and with
    /// current TA-Lib's STDDEV/BBANDS) to ~1e-12 relative. NaN before `period − 1`.
    static func deviation(_ x: Input, period: Int, into out: Output) {
        let n = x.count
        let first = period - 1
        guard first < n else { fillNaN(out, 0..<n); return }
        fillNaN(out, 0..<first)
        let p = Double(period)
        var anchor = 0.0, s1 = 0.0, s2 = 0.0
        var untilReanchor = 0   // counts down to the next re-anchoring (no integer division per bar)
        for i in first..<n {
            let trailing = i - period + 1
            if untilReanchor == 0 {
                untilReanchor = period
                anchor = x[trailing]
                s1 = 0; s2 = 0
                var j = trailing
                while j <= i { let d = x[j] - anchor; s1 += d; s2 += d * d; j += 1 }
            } else {
                let dIn = x[i] - anchor, dOut = x[trailing - 1] - anchor
                s1 += dIn - dOut
                s2 += dIn * dIn - dOut * dOut
            }
            untilReanchor -= 1
            let variance = (s2 - s1 * s1 / p) / p
            out[i] = variance > 0 ? variance.squareRoot() : 0
        }
    }

    // MARK: rolling extremes

    /// The position of the rolling maximum (or minimum) of x[i − period + 1 ... i] for every i ≥ period − 1, the
    /// most recent one on ties (as TA-Lib's AROON), by van Herk/Gil-Werman blocks like `blockRange`:
    /// `emit(i, position)`. Inputs must not be NaN.
    @inline(__always) static func blockArgExtreme(_ x: Input, period k: Int, maximum: Bool, _ emit: (Int, Int) -> Void) {
        let n = x.count
        guard k >= 1, k <= n else { return }
        let xs = x.baseAddress!
        // a replaces b when strictly better, or equal (ties to the later position, which `a` always is here)
        @inline(__always) func better(_ a: Double, _ b: Double) -> Bool { maximum ? a > b : a < b }
        @inline(__always) func atLeast(_ a: Double, _ b: Double) -> Bool { maximum ? a >= b : a <= b }
        withUnsafeTemporaryAllocation(of: (Double, Int).self, capacity: k) { suffix in
            var blockStart = 0
            while blockStart < n {
                let blockEnd = min(blockStart + k, n)
                var prefix = xs[blockStart], prefixAt = blockStart
                if blockStart >= k {
                    // suffix extremes of the previous block, the latest position on ties (scan backwards, strict)
                    let base = blockStart - k
                    var s = xs[blockStart - 1], sAt = blockStart - 1
                    var j = k - 1
                    while j >= 0 {
                        let v = xs[base + j]
                        if better(v, s) { s = v; sAt = base + j }
                        suffix[j] = (s, sAt)
                        j -= 1
                    }
                    var i = blockStart
                    while i < blockEnd {
                        let v = xs[i]
                        if atLeast(v, prefix) { prefix = v; prefixAt = i }
                        let lo = i - k + 1
                        if lo >= blockStart {
                            emit(i, prefixAt)
                        } else {
                            let (sv, sAt) = suffix[lo - base]
                            emit(i, atLeast(prefix, sv) ? prefixAt : sAt)
                        }
                        i += 1
                    }
                } else {
                    var i = 0
                    while i < blockEnd {
                        let v = xs[i]
                        if atLeast(v, prefix) { prefix = v; prefixAt = i }
                        if i == k - 1 { emit(i, prefixAt) }
                        i += 1
                    }
                }
                blockStart = blockEnd
            }
        }
    }

    /// Rolling highest high and lowest low of the `period` bars ending at each i ≥ start + period − 1, by van
    /// Herk/Gil-Werman blocks: the window ending in block b is the suffix extreme of block b−1 joined with the
    /// prefix extreme of block b, so each bar costs three branch-free comparisons per series whatever the period
    /// or the data (no rescans), and the high and low chains run interleaved. `emit(i, highest, lowest)` receives
    /// the values in increasing i. With `start` > 0 the values before `start` (an input's warm-up) are ignored.
    /// Equal to any other exact rolling max/min (an extreme is an extreme); positions are not tracked (see
    /// `blockArgExtreme`). Inputs must not be NaN.
    ///
    ///     Kernels.blockRange(high: h, low: l, period: 26) { i, hh, ll in out[i] = (hh + ll) / 2 }
    @inline(__always) static func blockRange(high: Input, low: Input, period k: Int, start: Int = 0,
                                             _ emit: (Int, Double, Double) -> Void) {
        let n = high.count - start
        guard k >= 1, k <= n, start >= 0 else { return }
        let hs = high.baseAddress! + start, ls = low.baseAddress! + start
        @inline(__always) func hi(_ a: Double, _ b: Double) -> Double { b > a ? b : a }
        @inline(__always) func lo(_ a: Double, _ b: Double) -> Double { b < a ? b : a }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * k) { suffixes in
            let sh = suffixes.baseAddress!, sl = sh + k
            var blockStart = 0
            while blockStart < n {
                let blockEnd = min(blockStart + k, n)
                var ph = hs[blockStart], pl = ls[blockStart]
                if blockStart >= k {
                    // suffix extremes of the previous block [blockStart − k, blockStart)
                    let base = blockStart - k
                    var h = hs[blockStart - 1], l = ls[blockStart - 1]
                    var j = k - 1
                    while j >= 0 {
                        h = hi(h, hs[base + j]); l = lo(l, ls[base + j])
                        sh[j] = h; sl[j] = l
                        j -= 1
                    }
                    var i = blockStart
                    while i < blockEnd {
                        ph = hi(ph, hs[i]); pl = lo(pl, ls[i])
                        let from = i - k + 1 - base   // the window's first bar, in the previous block unless i closes this one
                        if from >= k { emit(i + start, ph, pl) } else { emit(i + start, hi(sh[from], ph), lo(sl[from], pl)) }
                        i += 1
                    }
                } else {
                    var i = 0
                    while i < blockEnd {
                        ph = hi(ph, hs[i]); pl = lo(pl, ls[i])
                        if i == k - 1 { emit(i + start, ph, pl) }
                        i += 1
                    }
                }
                blockStart = blockEnd
            }
        }
    }

    /// The midpoint (highest high + lowest low) / 2 of the `period` bars ending at each i, written to
    /// `out[i + shift]` (shift ≥ 0 moves the value `shift` bars later); NaN where no value lands.
    static func rangeMidpoint(high: Input, low: Input, period: Int, shift: Int = 0, into out: Output) {
        let n = out.count
        let first = period - 1 + shift
        fillNaN(out, 0..<min(first, n))
        guard first < n else { return }
        let limit = n - shift
        blockRange(high: high, low: low, period: period) { i, hh, ll in if i < limit { out[i + shift] = (hh + ll) / 2.0 } }
    }

    /// EMAs of EMAs in one pass (TA-Lib's DEMA/TEMA/TRIX chains): level 1 is the EMA of x seeded with the SMA of
    /// its first `period` values, level d the EMA of level d−1 seeded the same way once level d−1 has `period`
    /// values. `body(i, e1, e2, e3)` is called from the first index where the deepest level exists; unused levels
    /// are 0.
    @inline(__always) static func emaChain(_ x: Input, period: Int, depth: Int, _ body: (Int, Double, Double, Double) -> Void) {
        let n = x.count
        let lb = period - 1
        guard depth * lb < n, n > 0 else { return }
        let k = emaFactor(period)
        let p = Double(period)
        var e1 = 0.0, e2 = 0.0, e3 = 0.0
        var s1 = 0.0, s2 = 0.0, s3 = 0.0
        for i in 0..<n {
            // level 1
            if i < lb { s1 += x[i]; continue }
            if i == lb { s1 += x[i]; e1 = s1 / p } else { e1 = ((x[i] - e1) * k) + e1 }
            if depth == 1 { body(i, e1, 0, 0); continue }
            // level 2 starts at lb (its first input) and is seeded at 2·lb
            if i < 2 * lb { s2 += e1; continue }
            if i == 2 * lb { s2 += e1; e2 = s2 / p } else { e2 = ((e1 - e2) * k) + e2 }
            if depth == 2 { body(i, e1, e2, 0); continue }
            if i < 3 * lb { s3 += e2; continue }
            if i == 3 * lb { s3 += e2; e3 = s3 / p } else { e3 = ((e2 - e3) * k) + e3 }
            body(i, e1, e2, e3)
        }
    }

    /// Two arrays of `n` doubles initialised together by `body` (no temporary copies).
    @inline(__always) static func arrays(_ n: Int, _ body: (Output, Output) -> Void) -> ([Double], [Double]) {
        var second: [Double] = []
        let first = array(n) { a in second = array(n) { b in body(a, b) } }
        return (first, second)
    }

    /// Three arrays of `n` doubles initialised together by `body`.
    @inline(__always) static func arrays(_ n: Int, _ body: (Output, Output, Output) -> Void) -> ([Double], [Double], [Double]) {
        var third: [Double] = []
        let (first, second) = arrays(n) { a, b in third = array(n) { c in body(a, b, c) } }
        return (first, second, third)
    }

    /// Four arrays of `n` doubles initialised together by `body`.
    @inline(__always) static func arrays(_ n: Int, _ body: (Output, Output, Output, Output) -> Void)
        -> ([Double], [Double], [Double], [Double])
    {
        var fourth: [Double] = []
        let (first, second, third) = arrays(n) { a, b, c in fourth = array(n) { d in body(a, b, c, d) } }
        return (first, second, third, fourth)
    }
}
