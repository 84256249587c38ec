/// AdamW as `torch.optim.AdamW` (decoupled weight decay, bias correction), updating a model's whole parameter
/// buffer with ONE kernel call per step. Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight decay 0.01 (applied to every parameter, as a single torch param group).
///
///     let opt = try AdamW(store, learningRate: 3e-4)
///     try store.zeroGradients(); /* forward + backward */
///     let clip = try GradientClipping.scale(store, maxNorm: 1)   // optional global-norm clipping
///     try opt.step(gradientScale: clip.scale)
public final class AdamW {
    public let store: ParameterStore
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// Steps taken so far (the bias-correction t of the next step is `stepCount + 1`).
    public private(set) var stepCount = 0
    /// First and second moment estimates, same layout as the parameters.
    public let m: Tensor
    public let v: Tensor

    public init(_ store: ParameterStore, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01) throws(EngineError) {
        guard store.hasGradients else {
            throw .invalidArgument(context: "AdamW", message: "the parameter store has no gradient buffer")
        }
        guard learningRate >= 0, (0 ..< 1).contains(beta1), (0 ..< 1).contains(beta2), eps >= 0, weightDecay >= 0 else {
            throw .invalidArgument(context: "AdamW", message: "lr \(learningRate), betas (\(beta1), \(beta2)), eps \(eps), weight decay \(weightDecay) out of range")
        }
        self.store = store
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        m = try Tensor(zeros: [store.layout.totalCount], on: store.backend)
        v = try Tensor(zeros: [store.layout.totalCount], on: store.backend)
    }

    /// One update from the current gradients, each multiplied by `gradientScale` first (clipping passes
    /// min(1, max_norm / norm)).
    public func step(gradientScale: Float = 1) throws(EngineError) {
        guard let grads = store.gradients else {
            throw .invalidState(context: "AdamW.step", message: "no gradients")
        }
        stepCount += 1
        try store.backend.adamWStep(params: store.values, m: m, v: v, grads: grads, count: store.layout.totalCount,
                                    lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                                    step: stepCount, gradScale: gradientScale)
    }

    /// Clears the moments and the step count (a fresh optimizer over the same parameters).
    public func reset() throws(EngineError) {
        try m.zero()
        try v.zero()
        stepCount = 0
    }

    /// Restores optimizer state (a checkpoint): moments on the host and the step count.
    public func restore(m mValues: [Float], v vValues: [Float], stepCount: Int) throws(EngineError) {
        guard stepCount >= 0 else { throw .invalidArgument(context: "AdamW.restore", message: "negative step count") }
        try m.copy(from: mValues)
        try v.copy(from: vValues)
        self.stepCount = stepCount
    }
}
