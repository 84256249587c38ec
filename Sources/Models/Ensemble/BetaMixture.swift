/// A weighted mixture of Beta distributions and the one Beta with the same mean and variance (moment matching).
///
/// Component i: mean p_i, concentration kappa_i (alpha_i = p_i kappa_i, beta_i = (1 − p_i) kappa_i), variance
/// v_i = p_i (1 − p_i) / (kappa_i + 1). With weights w_i summing to 1:
///
///     m = Σ w_i p_i
///     V = Σ w_i (v_i + p_i²) − m²                  (law of total variance)
///     kappa = m (1 − m) / V − 1,  alpha = m kappa,  beta = (1 − m) kappa
///
/// m (1 − m) − V = Σ w_i p_i (1 − p_i) kappa_i / (kappa_i + 1) > 0 for components inside (0, 1), so kappa > 0.
///
/// Worked example: components (p 0.6, kappa 10) and (p 0.3, kappa 4), weights 0.75 and 0.25:
///
///     v = 0.24 / 11 = 0.021818..., 0.21 / 5 = 0.042
///     m = 0.75·0.6 + 0.25·0.3 = 0.525
///     V = 0.75 (0.021818 + 0.36) + 0.25 (0.042 + 0.09) − 0.525² = 0.0437386...
///     kappa = 0.525·0.475 / 0.0437386 − 1 = 4.70148...,  alpha = 2.46828...,  beta = 2.23320...
public struct BetaMixture: Sendable, Equatable {
    public let mean: Double
    public let variance: Double

    public init(means p: [Double], concentrations kappa: [Double], weights w: [Double]) {
        precondition(p.count == kappa.count && p.count == w.count && !p.isEmpty, "one mean, concentration and weight per component")
        var m = 0.0, second = 0.0, spare = 0.0
        for i in p.indices {
            let v = p[i] * (1 - p[i]) / (kappa[i] + 1)
            m += w[i] * p[i]
            second += w[i] * (v + p[i] * p[i])
            spare += w[i] * p[i] * (1 - p[i]) * kappa[i] / (kappa[i] + 1)
        }
        mean = m
        // V computed as m(1 − m) − spare where cancellation would make Σ w (v + p²) − m² lose its digits.
        let direct = second - m * m
        variance = direct > 1e-3 * m * (1 - m) ? direct : max(m * (1 - m) - spare, .leastNormalMagnitude)
    }

    /// alpha + beta of the matched Beta.
    public var concentration: Double { mean * (1 - mean) / variance - 1 }
    public var alpha: Double { mean * concentration }
    public var beta: Double { (1 - mean) * concentration }
    public var standardDeviation: Double { variance.squareRoot() }
}
