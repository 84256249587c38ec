import Foundation

/// L2-regularised logistic regression fitted by Newton's method (iteratively reweighted least squares): minimises
/// Σ log-loss + (λ/2)‖w‖² (the intercept is not penalised), sklearn's `LogisticRegression(C = 1/λ)` objective.
/// Newton steps solve the (F+1)² Hessian system by Cholesky; the loss is strictly convex for λ > 0, so the steps
/// converge quadratically (stopping when the largest step is below 1e-10 or after 50 steps).
///
///     let lr = LogisticRegression.fit(x: rows, y: labels, lambda: 1)
///     lr.probability(rows[0])   // P(y = 1)
public struct LogisticRegression: Sendable, Equatable, Codable {
    public var weights: [Double]
    public var intercept: Double
    public var lambda: Double
    public var iterations: Int

    public init(weights: [Double], intercept: Double, lambda: Double = 1, iterations: Int = 0) {
        self.weights = weights
        self.intercept = intercept
        self.lambda = lambda
        self.iterations = iterations
    }

    public func probability(_ row: [Double]) -> Double {
        var z = intercept
        for (w, v) in zip(weights, row) { z += w * v }
        return 1 / (1 + exp(-z))
    }

    /// Fits on `x` (rows of F values) and `y` (0/1). With λ > 0 the Hessian is positive definite.
    public static func fit(x: [[Double]], y: [Int], lambda: Double = 1, maxIterations: Int = 50) -> LogisticRegression {
        let f = x.first?.count ?? 0, d = f + 1
        var theta = [Double](repeating: 0, count: d)   // [intercept, w...]
        var iterations = 0
        for _ in 0 ..< maxIterations {
            iterations += 1
            var gradient = [Double](repeating: 0, count: d)
            var hessian = [Double](repeating: 0, count: d * d)
            for (row, label) in zip(x, y) {
                var z = theta[0]
                for j in 0 ..< f { z += theta[j + 1] * row[j] }
                let p = 1 / (1 + exp(-z)), r = p - Double(label), w = p * (1 - p)
                gradient[0] += r
                for j in 0 ..< f { gradient[j + 1] += r * row[j] }
                for a in 0 ..< d {
                    let va = a == 0 ? 1 : row[a - 1]
                    for b in 0 ... a { hessian[a * d + b] += w * va * (b == 0 ? 1 : row[b - 1]) }
                }
            }
            for j in 1 ..< d { gradient[j] += lambda * theta[j]; hessian[j * d + j] += lambda }
            hessian[0] += 1e-12   // keeps the intercept's pivot positive when every p is 0 or 1
            for a in 0 ..< d { for b in 0 ..< a { hessian[b * d + a] = hessian[a * d + b] } }
            guard let step = solveSPD(hessian, gradient, d) else { break }
            var largest = 0.0
            for j in 0 ..< d { theta[j] -= step[j]; largest = max(largest, abs(step[j])) }
            if largest < 1e-10 { break }
        }
        return LogisticRegression(weights: Array(theta.dropFirst()), intercept: theta[0], lambda: lambda, iterations: iterations)
    }

    /// Solves A x = b for a symmetric positive definite A (row-major d×d) by Cholesky; nil when A is not.
    static func solveSPD(_ a: [Double], _ b: [Double], _ d: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: d * d)
        for i in 0 ..< d {
            for j in 0 ... i {
                var s = a[i * d + j]
                for k in 0 ..< j { s -= l[i * d + k] * l[j * d + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * d + i] = s.squareRoot()
                } else {
                    l[i * d + j] = s / l[j * d + j]
                }
            }
        }
        var z = b
        for i in 0 ..< d {
            for k in 0 ..< i { z[i] -= l[i * d + k] * z[k] }
            z[i] /= l[i * d + i]
        }
        for i in stride(from: d - 1, through: 0, by: -1) {
            for k in (i + 1) ..< d { z[i] -= l[k * d + i] * z[k] }
            z[i] /= l[i * d + i]
        }
        return z
    }
}
