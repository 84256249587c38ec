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

    /// Population standard deviation around a precomputed rolling mean (`mean[i]` = mean of the window ending at
    /// i, NaN where undefined), summed in two passes: √(Σ (x − mean)² / period). This is how current TA-Lib
    /// computes STDDEV and BBANDS (no cancellation, no zero threshold).
    static func deviation(_ x: Input, mean: UnsafeBufferPointer<Double>, period: Int, into out: Output) {
        let n = x.count
        let p = Double(period)
        for i in 0..<n {
            let m = mean[i]
            if m.isNaN { out[i] = .nan; continue }
            // Four partial sums break the add latency chain; the terms are all positive, so the order changes the
            // result by a few ulps at most.
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            var j = i - period + 1
            while j + 3 <= i {
                let d0 = x[j] - m, d1 = x[j + 1] - m, d2 = x[j + 2] - m, d3 = x[j + 3] - m
                s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
                j += 4
            }
            while j <= i { let d = x[j] - m; s0 += d * d; j += 1 }
            out[i] = (((s0 + s1) + (s2 + s3)) / p).squareRoot()
        }
    }

    // MARK: rolling extremes

    /// Rolling maximum over `period` values ending at each index (a monotonic deque: O(n) whatever the period).
    /// Output NaN before `start + period - 1`.
    static func rollingMax(_ x: Input, period: Int, start: Int = 0, into out: Output) {
        rollingExtreme(x, period: period, start: start, maximum: true, values: out, indices: nil)
    }

    /// Rolling minimum over `period` values ending at each index.
    static func rollingMin(_ x: Input, period: Int, start: Int = 0, into out: Output) {
        rollingExtreme(x, period: period, start: start, maximum: false, values: out, indices: nil)
    }

    /// Rolling maximum or minimum with a monotonic deque. On ties the most recent index is the extreme (as in
    /// TA-Lib's AROON). `values` receives the extreme, `indices` its position (as Double); either may be nil.
    static func rollingExtreme(_ x: Input, period: Int, start: Int, maximum: Bool, values: Output?, indices: Output?) {
        let n = x.count
        let first = start + period - 1
        if let values { fillNaN(values, 0..<min(first, n)) }
        if let indices { fillNaN(indices, 0..<min(first, n)) }
        guard first < n, start < n else { return }
        let deque = UnsafeMutablePointer<Int>.allocate(capacity: n - start)
        defer { deque.deallocate() }
        var head = 0, tail = 0
        let xs = x.baseAddress!
        @inline(__always) func emit(_ i: Int) {
            let at = deque[head]
            if let values { values[i] = xs[at] }
            if let indices { indices[i] = Double(at) }
        }
        if maximum {
            for i in start..<n {
                let v = xs[i]
                while tail > head && xs[deque[tail - 1]] <= v { tail -= 1 }
                deque[tail] = i
                tail += 1
                if deque[head] <= i - period { head += 1 }
                if i >= first { emit(i) }
            }
        } else {
            for i in start..<n {
                let v = xs[i]
                while tail > head && xs[deque[tail - 1]] >= v { tail -= 1 }
                deque[tail] = i
                tail += 1
                if deque[head] <= i - period { head += 1 }
                if i >= first { emit(i) }
            }
        }
    }
}
