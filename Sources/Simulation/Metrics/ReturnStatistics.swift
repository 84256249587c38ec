/// Return statistics with empyrical's (empyrical-reloaded) conventions, on per-period simple returns.
///
/// - `totalReturn`: Π(1 + r) − 1 (`cum_returns_final`).
/// - `cagr`: (1 + total)^(annualization / n) − 1 (`annual_return`: years = n / annualization).
/// - `annualVolatility`: sample std (ddof 1) × √annualization (`annual_volatility`).
/// - `sharpe`: mean(r − rf) / std(r − rf, ddof 1) × √annualization, rf per period (`sharpe_ratio`).
/// - `sortino`: mean(r − rf) × annualization / downside risk, downside risk = √mean(min(r − rf, 0)²) ×
///   √annualization (`sortino_ratio`, `downside_risk`).
/// - `maxDrawdown`: the most negative (V − running peak) / running peak of the compounded curve anchored at 1
///   before the first return (`max_drawdown`), ≤ 0.
/// - `calmar`: cagr / |maxDrawdown|, NaN when there is no drawdown (`calmar_ratio`).
///
/// A per-period risk-free rate is the annual rate divided by `annualization`.
public enum ReturnStatistics {
    public static func totalReturn(_ r: [Double]) -> Double {
        var v = 1.0
        for x in r where !x.isNaN { v *= 1 + x }
        return v - 1
    }

    public static func cagr(_ r: [Double], annualization: Double) -> Double {
        guard !r.isEmpty else { return .nan }
        let years = Double(r.count) / annualization
        return pow(1 + totalReturn(r), 1 / years) - 1
    }

    static func mean(_ r: [Double]) -> Double {
        var s = 0.0, n = 0.0
        for x in r where !x.isNaN { s += x; n += 1 }
        return n == 0 ? .nan : s / n
    }

    /// Sample standard deviation (ddof 1), two-pass.
    static func std(_ r: [Double]) -> Double {
        let m = mean(r)
        var s = 0.0, n = 0.0
        for x in r where !x.isNaN { s += (x - m) * (x - m); n += 1 }
        return n < 2 ? .nan : (s / (n - 1)).squareRoot()
    }

    public static func annualVolatility(_ r: [Double], annualization: Double) -> Double {
        guard r.count >= 2 else { return .nan }
        return std(r) * annualization.squareRoot()
    }

    public static func sharpe(_ r: [Double], riskFreePerPeriod rf: Double, annualization: Double) -> Double {
        guard r.count >= 2 else { return .nan }
        let adjusted = r.map { $0 - rf }
        let sd = std(adjusted)
        guard sd != 0 else { return .nan }
        return mean(adjusted) / sd * annualization.squareRoot()
    }

    public static func downsideRisk(_ r: [Double], requiredReturn rf: Double, annualization: Double) -> Double {
        guard !r.isEmpty else { return .nan }
        var s = 0.0, n = 0.0
        for x in r where !x.isNaN {
            let d = min(x - rf, 0)
            s += d * d
            n += 1
        }
        return (s / n).squareRoot() * annualization.squareRoot()
    }

    public static func sortino(_ r: [Double], requiredReturn rf: Double, annualization: Double) -> Double {
        guard r.count >= 2 else { return .nan }
        let average = mean(r.map { $0 - rf }) * annualization
        return average / downsideRisk(r, requiredReturn: rf, annualization: annualization)
    }

    /// The maximum drawdown (≤ 0) and the indices of its peak and trough in the compounded curve, where index 0 is
    /// the anchor before the first return and index i the value after return i − 1.
    public static func maxDrawdown(_ r: [Double]) -> (value: Double, peak: Int, trough: Int) {
        var value = 1.0, peak = 1.0, peakIndex = 0
        var worst = 0.0, worstPeak = 0, worstTrough = 0
        for (i, x) in r.enumerated() {
            if !x.isNaN { value *= 1 + x }
            if value > peak { peak = value; peakIndex = i + 1 }
            let dd = (value - peak) / peak
            if dd < worst { worst = dd; worstPeak = peakIndex; worstTrough = i + 1 }
        }
        return (worst, worstPeak, worstTrough)
    }

    public static func calmar(_ r: [Double], annualization: Double) -> Double {
        let mdd = maxDrawdown(r).value
        guard mdd < 0 else { return .nan }
        let c = cagr(r, annualization: annualization) / abs(mdd)
        return c.isInfinite ? .nan : c
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
