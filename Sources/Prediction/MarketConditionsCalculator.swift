import Common
import Features
import Foundation
import MarketData
import Models

/// The market conditions of `DynamicWeightCalculator` at a bar, from closed bars only, each a function of a fixed
/// number of bars ending there (so a live call and a batched backtest compute the same values whatever history
/// each loaded):
///
/// - ADX: TA-Lib's ADX(`adx_period`) over the last `adx_bars` bars of the regime timeframe (fewer at the start of
///   the history; nil below ADX's own 2·period warm-up);
/// - realised volatility at bar j: the population standard deviation of the `window` log returns ln(c_k / c_k−1),
///   k = j − window + 1 ... j; its percentile at bar t: the share of the values at bars max(window, t − lookback + 1)
///   ... t that are at or below the value at t (nil before bar `window`).
///
///     let c = MarketConditionsCalculator(config: config)
///     c.adx(high: h, low: l, close: cl, at: t)                 // 27.4
///     c.volatilityPercentile(close: cl, at: t)                 // 0.83
struct MarketConditionsCalculator: Sendable {
    let regime: EnsembleConfig.Regime
    let volatility: EnsembleConfig.Volatility

    init(config: EnsembleConfig) {
        regime = config.regime
        volatility = config.volatility
    }

    func adx(high: [Double], low: [Double], close: [Double], at t: Int) -> Double? {
        let start = max(0, t - regime.adxBars + 1)
        let n = t - start + 1
        guard n >= 2 * regime.adxPeriod else { return nil }
        let value: Double = high[start...t].withUnsafeBufferPointer { h in
            low[start...t].withUnsafeBufferPointer { l in
                close[start...t].withUnsafeBufferPointer { c in
                    Indicators.directionalMovement(high: h, low: l, close: c, period: regime.adxPeriod).adx[n - 1]
                }
            }
        }
        return value.isFinite ? value : nil
    }

    /// Realised volatility at bar j (nil before bar `window`).
    func realisedVolatility(close c: [Double], at j: Int) -> Double? {
        let w = volatility.window
        guard j >= w, j < c.count else { return nil }
        var mean = 0.0
        for k in (j - w + 1)...j { mean += log(c[k] / c[k - 1]) }
        mean /= Double(w)
        var sum = 0.0
        for k in (j - w + 1)...j {
            let d = log(c[k] / c[k - 1]) - mean
            sum += d * d
        }
        return (sum / Double(w)).squareRoot()
    }

    /// The percentile at bar t from precomputed values (`values[j]` = realised volatility at j, nil before `window`).
    func volatilityPercentile(_ values: [Double?], at t: Int) -> Double? {
        guard let current = values[t] else { return nil }
        let from = max(volatility.window, t - volatility.lookback + 1)
        var below = 0, total = 0
        for j in from...t {
            guard let v = values[j] else { continue }
            total += 1
            if v <= current { below += 1 }
        }
        return total > 0 ? Double(below) / Double(total) : nil
    }

    /// The percentile at bar t, computing only the values it needs (the live call).
    func volatilityPercentile(close c: [Double], at t: Int) -> Double? {
        guard t >= volatility.window else { return nil }
        var values = [Double?](repeating: nil, count: t + 1)
        for j in max(volatility.window, t - volatility.lookback + 1)...t { values[j] = realisedVolatility(close: c, at: j) }
        return volatilityPercentile(values, at: t)
    }
}
