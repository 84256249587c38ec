/// The simple moving average exactly as pandas computes `Series.rolling(n).mean()` (and so as backtesting.py's
/// `SMA` does): a running Kahan-compensated sum, values added and removed as the window slides, divided by the
/// window length, with pandas' two corrections (a window of identical values returns that value; a mean whose sign
/// contradicts all-positive or all-negative inputs is clamped to 0). Bit-identical output matters: a crossover
/// decided by the last bit of two nearly equal averages must go the same way as in the reference.
/// The first `n − 1` values are NaN.
///
///     rollingMean([1, 2, 3, 4], window: 2)   // [nan, 1.5, 2.5, 3.5]
public func rollingMean(_ values: some RandomAccessCollection<Double>, window n: Int) -> [Double] {
    precondition(n > 0, "window must be > 0")
    let v = Array(values)
    let count = v.count
    var out = [Double](repeating: .nan, count: count)
    var nobs = 0, negatives = 0, sameRun = 0
    var sum = 0.0, addComp = 0.0, removeComp = 0.0
    var previous = Double.nan
    for i in 0..<count {
        if i >= n {
            // remove_mean
            let x = v[i - n]
            if !x.isNaN {
                nobs -= 1
                let y = -x - removeComp
                let t = sum + y
                removeComp = t - sum - y
                sum = t
                if x.sign == .minus { negatives -= 1 }
            }
        }
        // add_mean
        let x = v[i]
        if !x.isNaN {
            nobs += 1
            let y = x - addComp
            let t = sum + y
            addComp = t - sum - y
            sum = t
            if x.sign == .minus { negatives += 1 }
            sameRun = x == previous ? sameRun + 1 : 1
            previous = x
        }
        // calc_mean (min_periods = window)
        if nobs >= n, nobs > 0 {
            var r = sum / Double(nobs)
            if sameRun >= nobs {
                r = previous
            } else if negatives == 0, r < 0 {
                r = 0
            } else if negatives == nobs, r > 0 {
                r = 0
            }
            out[i] = r
        }
    }
    return out
}
