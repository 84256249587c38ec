import Engine

/// CalibrationLoss (models.md): the predicted probabilities p = alpha / (alpha + beta) fall into `bins` equal-width
/// bins (bin = min(floor(p * bins), bins - 1)); in every non-empty bin the squared difference between the mean p
/// and the empirical frequency of label 1; the loss is the average over non-empty bins. Differentiable through p
/// (the binning itself is piecewise constant).
///
/// Computed on the host (a few hundred values per batch): one device-to-host copy of alpha, beta and labels.
///
///     let cal = CalibrationLoss()
///     let value = try cal.forward(out.prediction, labels: labels)
///     let (dAlpha, dBeta) = try cal.backward(weight: 0.1)
public final class CalibrationLoss {
    public let bins: Int
    private var saved: (alpha: [Float], beta: [Float], pGradient: [Double], backend: Backend)?
    private var dAlpha = ActivationBuffer()
    private var dBeta = ActivationBuffer()

    public init(bins: Int = 10) {
        precondition(bins >= 1, "CalibrationLoss needs at least one bin")
        self.bins = bins
    }

    /// The loss and d loss / d p for probabilities `p` and labels (host values).
    public static func evaluate(probabilities p: [Double], labels: [Double], bins: Int) -> (loss: Double, gradient: [Double]) {
        var sumP = [Double](repeating: 0, count: bins), sumY = sumP, count = [Int](repeating: 0, count: bins)
        var binOf = [Int](repeating: 0, count: p.count)
        for i in p.indices {
            let k = min(max(Int((p[i] * Double(bins)).rounded(.down)), 0), bins - 1)
            binOf[i] = k
            sumP[k] += p[i]
            sumY[k] += labels[i]
            count[k] += 1
        }
        let filled = count.filter { $0 > 0 }.count
        guard filled > 0 else { return (0, [Double](repeating: 0, count: p.count)) }
        var loss = 0.0
        var gap = [Double](repeating: 0, count: bins)
        for k in 0 ..< bins where count[k] > 0 {
            gap[k] = (sumP[k] - sumY[k]) / Double(count[k])
            loss += gap[k] * gap[k]
        }
        let gradient = p.indices.map { 2 * gap[binOf[$0]] / Double(count[binOf[$0]]) / Double(filled) }
        return (loss / Double(filled), gradient)
    }

    public func forward(_ prediction: BetaPrediction, labels: Tensor) throws(EngineError) -> Float {
        let (a, b) = try prediction.values()
        let y = try labels.toArray()
        guard y.count == a.count else {
            throw .shapeMismatch(context: "CalibrationLoss", message: "\(y.count) labels for \(a.count) predictions")
        }
        let p = zip(a, b).map { Double($0) / (Double($0) + Double($1)) }
        let (loss, gradient) = Self.evaluate(probabilities: p, labels: y.map(Double.init), bins: bins)
        saved = (a, b, gradient, prediction.alpha.backend)
        return Float(loss)
    }

    /// Gradients of `weight * loss` with respect to alpha and beta: dp/dalpha = beta / kappa^2,
    /// dp/dbeta = -alpha / kappa^2.
    public func backward(weight: Float = 1) throws(EngineError) -> (alpha: Tensor, beta: Tensor) {
        guard let (a, b, g, backend) = saved else {
            throw .invalidState(context: "CalibrationLoss.backward", message: "called before forward")
        }
        var ga = [Float](repeating: 0, count: a.count), gb = ga
        for i in a.indices {
            let kappa = Double(a[i]) + Double(b[i])
            let scale = Double(weight) * g[i] / (kappa * kappa)
            ga[i] = Float(scale * Double(b[i]))
            gb[i] = Float(-scale * Double(a[i]))
        }
        let da = try dAlpha.tensor([a.count], on: backend)
        let db = try dBeta.tensor([a.count], on: backend)
        try da.copy(from: ga)
        try db.copy(from: gb)
        return (da, db)
    }
}
