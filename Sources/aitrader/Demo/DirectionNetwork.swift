import Engine

/// The engine demo's network: Conv1d(2 -> 16, k 3) -> ReLU -> LSTM(16 -> 32) -> last step -> Dropout(0.1) ->
/// Linear(32 -> 2) -> softplus + 1e-3 = Beta(alpha, beta) over the label squashed to (0.05, 0.95), trained with
/// the Beta negative log-likelihood (the beta_nll kernel).
final class DirectionNetwork {
    static let labelEps: Float = 0.05
    let conv: Conv1d
    let relu = ActivationLayer(.relu)
    let lstm: LSTM
    let pool = TimePool(.last)
    let drop: Dropout
    let head: Linear
    let softplus = ActivationLayer(.softplus)
    let store: ParameterStore
    let ctx: Context
    private var alpha = ActivationBuffer(), beta = ActivationBuffer(), target = ActivationBuffer()
    private var loss = ActivationBuffer(), dLoss = ActivationBuffer(), dAlpha = ActivationBuffer()
    private var dBeta = ActivationBuffer(), dHead = ActivationBuffer(), sum = ActivationBuffer()

    init(backend: Backend, seed: UInt64) throws {
        var layout = ParameterLayout()
        conv = try Conv1d(DirectionWindows.featureCount, 16, kernelSize: 3, name: "conv", layout: &layout)
        lstm = try LSTM(inputSize: 16, hiddenSize: 32, name: "lstm", layout: &layout)
        drop = try Dropout(0.1)
        head = try Linear(32, 2, name: "head", layout: &layout)
        store = try ParameterStore(layout: layout, backend: backend, seed: seed)
        ctx = Context(parameters: store, training: true, dropoutSeed: seed)
    }

    /// Mean Beta NLL of a batch; with `train`, also the gradients (zeroed first). Returns (loss, P(up) per sample).
    func evaluate(x: [Float], labels: [Float], window: Int, train: Bool) throws -> (loss: Float, pUp: [Float]) {
        let backend = store.backend
        let b = labels.count
        ctx.training = train
        let input = try Tensor(x, shape: [b, window, DirectionWindows.featureCount], on: backend)
        let h = try pool.forward(lstm.forward(relu.forward(conv.forward(input, ctx), ctx), ctx), ctx)
        let z = try softplus.forward(head.forward(drop.forward(h, ctx), ctx), ctx)   // (B, 2)
        let a = try alpha.tensor([b], on: backend), be = try beta.tensor([b], on: backend)
        try backend.copy2D(a, ldd: 1, z, lds: 2, rows: b, columns: 1, accumulate: false)
        try backend.copy2D(be, ldd: 1, z.view(offset: 1, shape: [2 * b - 1]), lds: 2, rows: b, columns: 1, accumulate: false)
        try backend.scaleShift(a, alpha: 1, beta: 1e-3, count: b)
        try backend.scaleShift(be, alpha: 1, beta: 1e-3, count: b)
        let y = try target.tensor([b], on: backend)
        try y.copy(from: labels.map { Self.labelEps + (1 - 2 * Self.labelEps) * $0 })
        let l = try loss.tensor([b], on: backend)
        try backend.betaNLLForward(loss: l, alpha: a, beta: be, y: y, count: b)
        let total = try sum.tensor([1], on: backend)
        try backend.reduceSum(out: total, l, count: b)
        let meanLoss = try total.scalar() / Float(b)
        let av = try a.toArray(), bv = try be.toArray()
        let pUp = zip(av, bv).map { $0 / ($0 + $1) }
        guard train else { return (meanLoss, pUp) }

        try store.zeroGradients()
        let dl = try dLoss.tensor([b], on: backend)
        try dl.copy(from: [Float](repeating: 1 / Float(b), count: b))
        let da = try dAlpha.zeros([b], on: backend), db = try dBeta.zeros([b], on: backend)
        try backend.betaNLLBackward(dAlpha: da, dBeta: db, dLoss: dl, alpha: a, beta: be, y: y, count: b)
        let dz = try dHead.tensor([b, 2], on: backend)
        try backend.copy2D(dz, ldd: 2, da, lds: 1, rows: b, columns: 1, accumulate: false)
        try backend.copy2D(dz.view(offset: 1, shape: [2 * b - 1]), ldd: 2, db, lds: 1, rows: b, columns: 1, accumulate: false)
        let dh = try drop.backward(head.backward(softplus.backward(dz, ctx), ctx), ctx)
        try conv.backwardParametersOnly(relu.backward(lstm.backward(pool.backward(dh, ctx), ctx), ctx), ctx)
        return (meanLoss, pUp)
    }
}
