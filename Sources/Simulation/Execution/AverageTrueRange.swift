import MarketData

/// Wilder's Average True Range (TA-Lib's `ATR`): the first value, at bar `period`, is the mean of the first
/// `period` true ranges (bars 1...period); then `atr = (atr × (period − 1) + tr) / period`. Earlier bars are NaN.
/// Used by `SlippageModel.atr` and for stop distances of risk profiles.
public func averageTrueRange(_ bars: BarSeries, period: Int) -> [Double] {
    precondition(period > 0, "ATR period must be > 0")
    let n = bars.count
    var out = [Double](repeating: .nan, count: n)
    guard n > period else { return out }
    var sum = 0.0
    var atr = 0.0
    for i in 1..<n {
        let h = bars.high[i], l = bars.low[i], pc = bars.close[i - 1]
        let tr = max(h - l, abs(h - pc), abs(l - pc))
        if i <= period {
            sum += tr
            if i == period {
                atr = sum / Double(period)
                out[i] = atr
            }
        } else {
            atr = (atr * Double(period - 1) + tr) / Double(period)
            out[i] = atr
        }
    }
    return out
}
