import Foundation

/// The standard normal truncated to [a, b], as Optuna's `samplers/_tpe/_truncnorm.py` computes it: a stable
/// log Φ, the log mass log(Φ(b) − Φ(a)) without cancellation in either tail, the quantile function by inverting
/// log Φ (so draws far in a tail stay inside [a, b]) and the log density.
///
///     let mass = TruncatedNormal.logMass(-1, 1)              // log 0.6827
///     let x = TruncatedNormal.quantile(0.5, a: 0, b: .infinity)  // 0.6745 (median of the half-normal)
public enum TruncatedNormal {
    static let logSqrt2Pi = 0.5 * log(2 * Double.pi)

    /// log Φ(x), accurate in the far left tail (asymptotic series below −37).
    public static func logNdtr(_ x: Double) -> Double {
        if x > 0 { return log1p(-0.5 * erfc(x / 2.0.squareRoot())) }
        if x > -37 { return log(0.5 * erfc(-x / 2.0.squareRoot())) }
        // log Φ(x) = −x²/2 − log(−x) − log √(2π) + log(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸ − …)
        let x2 = x * x
        return -0.5 * x2 - log(-x) - logSqrt2Pi + log1p(-1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2) + 105 / (x2 * x2 * x2 * x2))
    }

    /// log(Φ(b) − Φ(a)) for a ≤ b (Optuna's `_log_gauss_mass`): both tails computed on the side where they are
    /// small, the middle as log(1 − Φ(a) − Φ(−b)).
    public static func logMass(_ a: Double, _ b: Double) -> Double {
        func logDiff(_ la: Double, _ lb: Double) -> Double {   // log(e^lb − e^la), lb ≥ la
            lb + log1p(-exp(la - lb))
        }
        if b <= 0 { return logDiff(logNdtr(a), logNdtr(b)) }
        if a > 0 { return logDiff(logNdtr(-b), logNdtr(-a)) }
        let left = 0.5 * erfc(-a / 2.0.squareRoot()), right = 0.5 * erfc(b / 2.0.squareRoot())
        return log1p(-left - right)
    }

    /// Φ⁻¹(exp(y)) for y ≤ 0 (scipy's `ndtri_exp`): a rational first guess, then Newton steps on log Φ.
    public static func ndtriExp(_ y: Double) -> Double {
        if y >= 0 { return .infinity }
        if y == -.infinity { return -.infinity }
        var x: Double
        if y > -700 {
            let p = exp(y)
            x = p > 0.5 ? -inverseNormal(-expm1(y)) : inverseNormal(p)
        } else {
            x = -(-2 * y).squareRoot()
        }
        for _ in 0 ..< 3 {
            let lp = logNdtr(x)
            // d/dx log Φ(x) = φ(x) / Φ(x)
            let slope = exp(-0.5 * x * x - logSqrt2Pi - lp)
            guard slope.isFinite, slope > 0 else { break }
            let dx = (lp - y) / slope
            x -= dx
            if abs(dx) < 1e-15 * max(1, abs(x)) { break }
        }
        return x
    }

    /// Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9 before refinement).
    static func inverseNormal(_ p: Double) -> Double {
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                 -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                 -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low {
            let q = (-2 * log1p(-p)).squareRoot()
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let q = p - 0.5, r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }

    /// The q-quantile of the standard normal truncated to [a, b] (Optuna's `ppf`: from the left tail when a < 0,
    /// else mirrored from the right), clipped into [a, b].
    public static func quantile(_ q: Double, a: Double, b: Double) -> Double {
        func logAddExp(_ x: Double, _ y: Double) -> Double {
            let m = max(x, y)
            return m == -.infinity ? m : m + log(exp(x - m) + exp(y - m))
        }
        let mass = logMass(a, b)
        let x: Double
        if a < 0 {
            x = ndtriExp(logAddExp(logNdtr(a), log(q) + mass))
        } else {
            x = -ndtriExp(logAddExp(logNdtr(-b), log1p(-q) + mass))
        }
        return min(max(x, a), b)
    }

    /// log density at x of N(mu, sigma²) truncated to [low, high] (−∞ outside).
    public static func logPDF(_ x: Double, mu: Double, sigma: Double, low: Double, high: Double) -> Double {
        guard x >= low, x <= high else { return -.infinity }
        let z = (x - mu) / sigma
        return -0.5 * z * z - logSqrt2Pi - log(sigma) - logMass((low - mu) / sigma, (high - mu) / sigma)
    }
}
