import Foundation

/// Platt scaling on the logit of p(up): p' = σ(a · logit(p) + b), with a and b minimising the mean log loss
/// −mean(y ln p' + (1 − y) ln(1 − p')) on the fitting data (plain labels, no Platt prior smoothing of the
/// targets). Temperature scaling is the same map with b = 0 (a = 1 / T). p is clipped to [1e−12, 1 − 1e−12]
/// before the logit, so p = 0 or 1 stay finite.
///
/// The fit is Newton's method on (a, b) from the identity (a = 1, b = 0) with a halving line search, stopping
/// when a step changes neither parameter by more than 1e−12 (relative); it matches scipy.optimize.minimize on the
/// same loss to 1e−6 (`tools/reference/calibration_fixtures.py`).
///
///     let s = try PlattScaling.fit(p: [0.55, 0.52, 0.45, 0.48, 0.6], y: [1, 0, 0, 1, 1])
///     s.apply(0.55)        // the calibrated probability
///     PlattScaling(a: 2, b: 0).apply(0.6)   // σ(2 · ln 1.5) = 0.6923...
public struct PlattScaling: Sendable, Equatable, Codable {
    public var a: Double
    public var b: Double

    public init(a: Double, b: Double) {
        self.a = a
        self.b = b
    }

    /// The identity map (a = 1, b = 0).
    public static let identity = PlattScaling(a: 1, b: 0)
    /// p is clipped to [epsilon, 1 − epsilon] before the logit.
    public static let epsilon = 1e-12
    static let maxIterations = 100

    public static func logit(_ p: Double) -> Double {
        let c = min(max(p, epsilon), 1 - epsilon)
        return log(c) - log1p(-c)
    }

    static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }

    /// log(1 + e^z) without overflow.
    static func softplus(_ z: Double) -> Double {
        z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
    }

    public func apply(_ p: Double) -> Double { Self.sigmoid(a * Self.logit(p) + b) }

    public func apply(_ p: [Double]) -> [Double] { p.map(apply) }

    /// Mean log loss of the map on (x = logit p, y).
    static func loss(a: Double, b: Double, x: [Double], y: [Int]) -> Double {
        var sum = 0.0
        for i in x.indices {
            let z = a * x[i] + b
            sum += softplus(z) - (y[i] == 1 ? z : 0)
        }
        return sum / Double(x.count)
    }

    /// Fits a and b (or only a, b = 0, with `temperatureOnly`) by Newton's method.
    public static func fit(p: [Double], y: [Int], temperatureOnly: Bool = false) throws(CalibrationError) -> PlattScaling {
        try CalibrationError.check(p: p, y: y)
        let ones = y.reduce(0, +)
        guard ones > 0, ones < y.count else { throw .oneClass(samples: y.count) }
        let x = p.map(logit)
        let method: CalibrationMethod = temperatureOnly ? .temperature : .platt
        var a = 1.0, b = 0.0
        var current = loss(a: a, b: b, x: x, y: y)
        for _ in 0 ..< maxIterations {
            // Gradient and Hessian of the mean loss.
            var ga = 0.0, gb = 0.0, haa = 0.0, hab = 0.0, hbb = 0.0
            for i in x.indices {
                let q = sigmoid(a * x[i] + b), r = q - Double(y[i]), w = q * (1 - q)
                ga += r * x[i]; gb += r
                haa += w * x[i] * x[i]; hab += w * x[i]; hbb += w
            }
            let n = Double(x.count)
            ga /= n; gb /= n; haa /= n; hab /= n; hbb /= n
            var da: Double, db: Double
            if temperatureOnly {
                guard haa > 0 else { throw .notConverged(method: method, iterations: maxIterations) }
                da = -ga / haa; db = 0
            } else {
                let det = haa * hbb - hab * hab
                guard det > 0, det.isFinite else { throw .notConverged(method: method, iterations: maxIterations) }
                da = -(hbb * ga - hab * gb) / det
                db = -(haa * gb - hab * ga) / det
            }
            // Halve the step until the loss does not increase.
            var step = 1.0, next = loss(a: a + da, b: b + db, x: x, y: y)
            while !(next <= current), step > 1e-10 {
                step /= 2
                next = loss(a: a + step * da, b: b + step * db, x: x, y: y)
            }
            guard next <= current else { return PlattScaling(a: a, b: b) }   // no descent left: at the optimum
            da *= step; db *= step
            a += da; b += db
            current = next
            if abs(da) <= 1e-12 * (1 + abs(a)) && abs(db) <= 1e-12 * (1 + abs(b)) {
                guard a.isFinite, b.isFinite else { break }
                return PlattScaling(a: a, b: b)
            }
        }
        throw .notConverged(method: method, iterations: maxIterations)
    }
}
