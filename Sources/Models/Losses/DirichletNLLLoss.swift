import Engine

/// The regime loss of long_term (models.md): -mean_i log Dir(y_i | conc_i), where y_i is the one-hot regime
/// label smoothed towards uniform, y = (1 - s) onehot + s / K (s = 0.1 by default, so every y_k > 0), computed by
/// the backend's `dirichlet_nll` kernel.
///
///     let loss = DirichletNLLLoss()
///     let value = try loss.forward(concentration: out.regime!, regimes: [0, 2, 1])   // class per sample
///     let dConc = try loss.backward(weight: 0.2)
public final class DirichletNLLLoss {
    public let smoothing: Float
    private var targets = ActivationBuffer()
    private var perSample = ActivationBuffer()
    private var total = ActivationBuffer()
    private var dLoss = ActivationBuffer()
    private var dConcentration = ActivationBuffer()
    private var saved: (concentration: Tensor, y: Tensor)?

    public init(smoothing: Float = 0.1) {
        precondition(smoothing > 0 && smoothing < 1, "smoothing must be in (0, 1) so every target is inside the simplex")
        self.smoothing = smoothing
    }

    /// The smoothed one-hot targets (N, K) of class indices.
    public func smoothedTargets(_ regimes: [Int], classes k: Int) throws(EngineError) -> [Float] {
        var y = [Float](repeating: smoothing / Float(k), count: regimes.count * k)
        for (i, c) in regimes.enumerated() {
            guard (0 ..< k).contains(c) else {
                throw .invalidArgument(context: "DirichletNLLLoss", message: "regime \(c) of sample \(i) outside 0..<\(k)")
            }
            y[i * k + c] += 1 - smoothing
        }
        return y
    }

    public func forward(concentration: Tensor, regimes: [Int]) throws(EngineError) -> Float {
        guard concentration.rank == 2, concentration.shape[0] == regimes.count else {
            throw .shapeMismatch(context: "DirichletNLLLoss", message: "concentration \(concentration.shape) for \(regimes.count) regimes")
        }
        let (n, k) = (concentration.shape[0], concentration.shape[1])
        let backend = concentration.backend
        let y = try targets.tensor([n, k], on: backend)
        try y.copy(from: smoothedTargets(regimes, classes: k))
        let losses = try perSample.tensor([n], on: backend)
        try backend.dirichletNLLForward(loss: losses, concentration: concentration, y: y, rows: n, classes: k)
        let sum = try total.tensor([1], on: backend)
        try backend.reduceSum(out: sum, losses, count: n)
        saved = (concentration, y)
        return try sum.scalar() / Float(n)
    }

    /// Gradient of `weight * mean loss` with respect to the concentrations (N, K).
    public func backward(weight: Float = 1) throws(EngineError) -> Tensor {
        guard let (c, y) = saved else { throw .invalidState(context: "DirichletNLLLoss.backward", message: "called before forward") }
        let (n, k) = (c.shape[0], c.shape[1])
        let d = try dLoss.zeros([n], on: c.backend)
        try c.backend.scaleShift(d, alpha: 0, beta: weight / Float(n), count: n)
        let dc = try dConcentration.zeros([n, k], on: c.backend)
        try c.backend.dirichletNLLBackward(dConcentration: dc, dLoss: d, concentration: c, y: y, rows: n, classes: k)
        return dc
    }
}
