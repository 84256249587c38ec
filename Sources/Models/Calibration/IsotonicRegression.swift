/// Isotonic regression of the labels on p(up), exactly as scikit-learn's `IsotonicRegression(increasing=True,
/// out_of_bounds="clip")` fits and predicts (sklearn 1.9.1 with scipy ≥ 1.12):
///
/// 1. sort the samples by p (ties by label), merge samples whose p differ by less than 1e−15 (`_make_unique`: the
///    first p of the run, the mean label, the count as weight);
/// 2. pool adjacent violators on those means with those weights (scipy's `optimize.isotonic_regression`, Busing's
///    algorithm, which pools equal neighbours too);
/// 3. keep only the first and last point of each run of equal fitted values (`trim_duplicates`): the thresholds.
///
/// `apply` clips p to [first, last threshold] and interpolates linearly between thresholds (`np.interp`).
///
///     let iso = try IsotonicRegression.fit(p: [0.1, 0.3, 0.2, 0.8], y: [0, 1, 0, 1])
///     iso.x   // [0.1, 0.2, 0.3, 0.8]  (0.1 and 0.2 pooled to 0, 0.3 and 0.8 to 1: runs' first and last)
///     iso.y   // [0.0, 0.0, 1.0, 1.0]
///     iso.apply(0.25)   // 0.5, halfway between 0.2 and 0.3
///     iso.apply(0.95)   // 1.0 (clipped to 0.8)
public struct IsotonicRegression: Sendable, Equatable, Codable {
    /// Increasing thresholds of p (sklearn's `X_thresholds_`).
    public var x: [Double]
    /// Fitted probability at each threshold, non-decreasing (`y_thresholds_`).
    public var y: [Double]

    /// Thresholds as fitted; `x` strictly increasing, `y` non-decreasing in [0, 1], same non-zero length.
    public init(x: [Double], y: [Double]) throws(CalibrationError) {
        guard x.count == y.count, !x.isEmpty else {
            throw .invalidStored(message: "isotonic thresholds: \(x.count) x and \(y.count) y (need as many, at least one)")
        }
        for i in x.indices {
            guard x[i].isFinite, y[i].isFinite, y[i] >= 0, y[i] <= 1 else {
                throw .invalidStored(message: "isotonic threshold \(i): (\(x[i]), \(y[i])) is not finite with y in [0, 1]")
            }
            if i > 0 && !(x[i] > x[i - 1] && y[i] >= y[i - 1]) {
                throw .invalidStored(message: "isotonic thresholds must increase: \(i - 1) (\(x[i - 1]), \(y[i - 1])), \(i) (\(x[i]), \(y[i]))")
            }
        }
        self.x = x
        self.y = y
    }

    /// sklearn's `_make_unique` tolerance: `np.finfo(np.float64).resolution`.
    static let tieResolution = 1e-15

    public static func fit(p: [Double], y labels: [Int]) throws(CalibrationError) -> IsotonicRegression {
        try CalibrationError.check(p: p, y: labels)
        let order = p.indices.sorted { (p[$0], labels[$0]) < (p[$1], labels[$1]) }
        // _make_unique: runs of p closer than the resolution to the run's first p become one point.
        var ux: [Double] = [], uy: [Double] = [], uw: [Double] = []
        var currentX = p[order[0]], sumY = 0.0, weight = 0.0
        for i in order {
            if p[i] - currentX >= tieResolution {
                ux.append(currentX); uw.append(weight); uy.append(sumY / weight)
                currentX = p[i]; weight = 1; sumY = Double(labels[i])
            } else {
                weight += 1; sumY += Double(labels[i])
            }
        }
        ux.append(currentX); uw.append(weight); uy.append(sumY / weight)
        let fitted = pool(uy, weights: uw)
        // trim_duplicates: keep the ends and every point where the fitted value changes on either side.
        var tx: [Double] = [], ty: [Double] = []
        for i in fitted.indices {
            let keep = i == 0 || i == fitted.count - 1 || fitted[i - 1] != fitted[i] || fitted[i] != fitted[i + 1]
            if keep { tx.append(ux[i]); ty.append(fitted[i]) }
        }
        return try IsotonicRegression(x: tx, y: ty)
    }

    /// Pool adjacent violators (scipy's `_pava`, Busing 2022, Algorithm 1): the non-decreasing sequence closest to
    /// `values` in weighted least squares.
    static func pool(_ values: [Double], weights: [Double]) -> [Double] {
        let n = values.count
        guard n > 1 else { return values }
        var x = values, w = weights
        var r = [Int](repeating: 0, count: n + 1)
        r[1] = 1
        var b = 0
        var xbPrev = x[0], wbPrev = w[0]
        var i = 1
        while i < n {
            b += 1
            var xb = x[i], wb = w[i]
            if xbPrev >= xb {
                b -= 1
                var sb = wbPrev * xbPrev + wb * xb
                wb += wbPrev
                xb = sb / wb
                while i < n - 1 && xb >= x[i + 1] {
                    i += 1
                    sb += w[i] * x[i]
                    wb += w[i]
                    xb = sb / wb
                }
                while b > 0 && x[b - 1] >= xb {
                    b -= 1
                    sb += w[b] * x[b]
                    wb += w[b]
                    xb = sb / wb
                }
            }
            x[b] = xb; xbPrev = xb
            w[b] = wb; wbPrev = wb
            r[b + 1] = i + 1
            i += 1
        }
        var out = [Double](repeating: 0, count: n)
        for k in 0 ... b {
            for j in r[k] ..< r[k + 1] { out[j] = x[k] }
        }
        return out
    }

    /// The fitted function at p: clipped to the thresholds' range, linear between thresholds (`np.interp`).
    public func apply(_ p: Double) -> Double {
        let last = x.count - 1
        guard last > 0 else { return y[0] }
        let v = min(max(p, x[0]), x[last])
        if v >= x[last] { return y[last] }
        // Largest j with x[j] <= v.
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if x[mid] <= v { lo = mid } else { hi = mid }
        }
        let slope = (y[lo + 1] - y[lo]) / (x[lo + 1] - x[lo])
        return slope * (v - x[lo]) + y[lo]
    }

    public func apply(_ p: [Double]) -> [Double] { p.map(apply) }
}
