import Engine

/// The evidential classification loss of Sensoy, Kaplan & Kandemir (2018), "Evidential Deep Learning to Quantify
/// Classification Uncertainty", for two classes (up, down) with the Beta prediction as the Dirichlet:
///
/// - fit: the negative log marginal likelihood of the label under Beta-Bernoulli, p ~ Beta(alpha, beta),
///   y ~ Bernoulli(p): −log E[p^y (1 − p)^(1−y)] = log(alpha + beta) − y log alpha − (1 − y) log beta — the log
///   loss of p = alpha / (alpha + beta) (their eq. 3, "type II maximum likelihood");
/// - evidence regulariser: KL(Beta(α̃, β̃) ‖ Beta(1, 1)) where the true class's parameter is set to 1
///   (α̃ = y + (1 − y) alpha, β̃ = (1 − y) + y beta), which pulls the "misleading evidence" — the wrong class's
///   parameter — to 1, the uniform prior's value (their eq. 5's KL term);
/// - loss = mean(nll) + λ mean(kl), λ = `regularizer` (the trainer anneals it: λ_t = min(1, epoch / 10) × weight).
///
/// The BetaHead's parameters are softplus + 1e-3, so they may fall below 1 (Sensoy's alpha = evidence + 1 ≥ 1
/// cannot): the KL's minimum over the misleading parameter is still at 1 (for y = 1 it is log β + 1/β − 1), so the
/// regulariser keeps it near "no evidence" from both sides. Labels are used as given (0/1, or soft in [0, 1]); no
/// squashing is needed since the marginal likelihood is finite at the edges.
///
/// Computed by the backend's `evidential_beta` kernels (lgamma, digamma, trigamma in double; CPU and CUDA).
///
///     let loss = EvidentialBetaLoss()
///     let parts = try loss.forward(out.prediction, labels: labels, regularizer: 0.5)   // parts.nll, parts.kl
///     let (dAlpha, dBeta) = try loss.backward()
public final class EvidentialBetaLoss {
    private var perSampleNLL = ActivationBuffer()
    private var perSampleKL = ActivationBuffer()
    private var total = ActivationBuffer()
    private var dNLL = ActivationBuffer()
    private var dKL = ActivationBuffer()
    private var dAlpha = ActivationBuffer()
    private var dBeta = ActivationBuffer()
    private var saved: (prediction: BetaPrediction, y: Tensor, regularizer: Float)?

    public init() {}

    /// The batch means of the marginal NLL and of the KL regulariser (unweighted); `regularizer` is the λ the
    /// backward pass applies to the KL term (0: none).
    public func forward(_ prediction: BetaPrediction, labels: Tensor,
                        regularizer: Float) throws(EngineError) -> (nll: Float, kl: Float) {
        let n = prediction.batchSize
        guard labels.count == n else {
            throw .shapeMismatch(context: "EvidentialBetaLoss", message: "\(labels.count) labels for \(n) predictions")
        }
        guard regularizer >= 0, regularizer.isFinite else {
            throw .invalidArgument(context: "EvidentialBetaLoss", message: "regularizer must be finite and >= 0, got \(regularizer)")
        }
        let backend = prediction.alpha.backend
        let nll = try perSampleNLL.tensor([n], on: backend)
        let kl = try perSampleKL.tensor([n], on: backend)
        try backend.evidentialBetaForward(nll: nll, kl: kl, alpha: prediction.alpha, beta: prediction.beta, y: labels, count: n)
        let sum = try total.tensor([2], on: backend)
        try backend.reduceSum(out: sum, nll, count: n)
        try backend.reduceSum(out: sum.view(offset: 1, shape: [1]), kl, count: n)
        saved = (prediction, labels, regularizer)
        let sums = try sum.toArray()
        return (sums[0] / Float(n), sums[1] / Float(n))
    }

    /// Gradients of `weight × (mean nll + λ mean kl)` with respect to alpha and beta (fresh buffers).
    public func backward(weight: Float = 1) throws(EngineError) -> (alpha: Tensor, beta: Tensor) {
        guard let (prediction, y, regularizer) = saved else {
            throw .invalidState(context: "EvidentialBetaLoss.backward", message: "called before forward")
        }
        let n = prediction.batchSize
        let backend = y.backend
        let dn = try dNLL.zeros([n], on: backend)
        try backend.scaleShift(dn, alpha: 0, beta: weight / Float(n), count: n)
        var dk: Tensor?
        if regularizer != 0 {
            let t = try dKL.zeros([n], on: backend)
            try backend.scaleShift(t, alpha: 0, beta: weight * regularizer / Float(n), count: n)
            dk = t
        }
        let da = try dAlpha.zeros([n], on: backend)
        let db = try dBeta.zeros([n], on: backend)
        try backend.evidentialBetaBackward(dAlpha: da, dBeta: db, dNLL: dn, dKL: dk, alpha: prediction.alpha,
                                           beta: prediction.beta, y: y, count: n)
        return (da, db)
    }
}
