import Engine

/// BetaNLL (models.md): the label (1 = the price went up over the horizon; soft labels in [0, 1] allowed) is
/// squashed away from the edges, y = eps + (1 - 2 eps) label with eps = 0.05, and the loss is
/// -mean_i log Beta(y_i | alpha_i, beta_i), computed with lgamma by the backend's `beta_nll` kernel.
///
///     let loss = BetaNLLLoss()
///     let value = try loss.forward(out.prediction, labels: labels)   // labels (B)
///     let (dAlpha, dBeta) = try loss.backward()                       // d(mean loss) / d(alpha, beta)
public final class BetaNLLLoss {
    public let labelEpsilon: Float
    private var targets = ActivationBuffer()
    private var perSample = ActivationBuffer()
    private var total = ActivationBuffer()
    private var dLoss = ActivationBuffer()
    private var dAlpha = ActivationBuffer()
    private var dBeta = ActivationBuffer()
    private var saved: (prediction: BetaPrediction, y: Tensor)?

    public init(labelEpsilon: Float = 0.05) {
        self.labelEpsilon = labelEpsilon
    }

    /// The mean negative log-likelihood over the batch.
    public func forward(_ prediction: BetaPrediction, labels: Tensor) throws(EngineError) -> Float {
        let n = prediction.batchSize
        guard labels.count == n else {
            throw .shapeMismatch(context: "BetaNLLLoss", message: "\(labels.count) labels for \(n) predictions")
        }
        let backend = prediction.alpha.backend
        let y = try targets.tensor([n], on: backend)
        try y.copy(from: labels)
        try backend.scaleShift(y, alpha: 1 - 2 * labelEpsilon, beta: labelEpsilon, count: n)
        let losses = try perSample.tensor([n], on: backend)
        try backend.betaNLLForward(loss: losses, alpha: prediction.alpha, beta: prediction.beta, y: y, count: n)
        let sum = try total.tensor([1], on: backend)
        try backend.reduceSum(out: sum, losses, count: n)
        saved = (prediction, y)
        return try sum.scalar() / Float(n)
    }

    /// Gradients of `weight * mean loss` with respect to alpha and beta (fresh buffers, not accumulated).
    public func backward(weight: Float = 1) throws(EngineError) -> (alpha: Tensor, beta: Tensor) {
        guard let (prediction, y) = saved else {
            throw .invalidState(context: "BetaNLLLoss.backward", message: "called before forward")
        }
        let n = prediction.batchSize
        let backend = y.backend
        let d = try dLoss.zeros([n], on: backend)
        try backend.scaleShift(d, alpha: 0, beta: weight / Float(n), count: n)
        let da = try dAlpha.zeros([n], on: backend)
        let db = try dBeta.zeros([n], on: backend)
        try backend.betaNLLBackward(dAlpha: da, dBeta: db, dLoss: d, alpha: prediction.alpha, beta: prediction.beta, y: y,
                                    count: n)
        return (da, db)
    }
}
