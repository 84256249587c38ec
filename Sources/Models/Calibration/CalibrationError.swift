/// Why a calibrator could not be fitted or read back.
///
///     do { _ = try PlattScaling.fit(p: [0.6], y: [1]) }
///     catch { print(error) }   // "calibration: the labels hold one class only (1 samples); nothing to fit"
public enum CalibrationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `p` and `y` have different lengths, or are empty.
    case counts(probabilities: Int, labels: Int)
    /// A label other than 0 or 1, or a probability that is not a finite number in [0, 1].
    case invalidValue(index: Int, message: String)
    /// Every label is the same: a log-loss fit has no finite optimum.
    case oneClass(samples: Int)
    /// Newton's method did not converge (the data are separable: the slope grows without bound).
    case notConverged(method: CalibrationMethod, iterations: Int)
    /// A stored calibration (checkpoint metadata) that is not valid.
    case invalidStored(message: String)

    public var description: String {
        switch self {
        case let .counts(p, y): "calibration: \(p) probabilities and \(y) labels (need as many, at least one)"
        case let .invalidValue(index, message): "calibration: sample \(index): \(message)"
        case let .oneClass(n): "calibration: the labels hold one class only (\(n) samples); nothing to fit"
        case let .notConverged(method, n):
            "calibration: \(method.rawValue) did not converge in \(n) Newton steps (separable data?)"
        case let .invalidStored(message): "calibration: \(message)"
        }
    }

    /// Checks `p` (finite, in [0, 1]) and `y` (0 or 1), same non-zero length.
    static func check(p: [Double], y: [Int]) throws(CalibrationError) {
        guard p.count == y.count, !p.isEmpty else { throw .counts(probabilities: p.count, labels: y.count) }
        for i in p.indices {
            guard p[i].isFinite, p[i] >= 0, p[i] <= 1 else { throw .invalidValue(index: i, message: "probability \(p[i]) is not in [0, 1]") }
            guard y[i] == 0 || y[i] == 1 else { throw .invalidValue(index: i, message: "label \(y[i]) is not 0 or 1") }
        }
    }
}
