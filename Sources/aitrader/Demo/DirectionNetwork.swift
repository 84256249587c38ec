import Engine
import Models

/// The engine demo's network: Conv1d(2 -> 16, k 3) -> ReLU -> LSTM(16 -> 32) -> last step -> Dropout(0.1) ->
/// BetaHead(32) (Linear -> softplus + 1e-3 = Beta(alpha, beta)), trained with the Beta negative log-likelihood of
/// the label squashed to (0.05, 0.95) (the beta_nll kernel, via Models' BetaNLLLoss).
final class DirectionNetwork {
    let conv: Conv1d
    let relu = ActivationLayer(.relu)
    let lstm: LSTM
    let pool = TimePool(.last)
    let drop: Dropout
    let head: BetaHead
    let loss = BetaNLLLoss()
    let store: ParameterStore
    let ctx: Context
    private var labelBuffer = ActivationBuffer()

    init(backend: Backend, seed: UInt64) throws {
        var layout = ParameterLayout()
        conv = try Conv1d(DirectionWindows.featureCount, 16, kernelSize: 3, name: "conv", layout: &layout)
        lstm = try LSTM(inputSize: 16, hiddenSize: 32, name: "lstm", layout: &layout)
        drop = try Dropout(0.1)
        head = try BetaHead(32, name: "head", layout: &layout)
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
        let prediction = try head.forward(drop.forward(h, ctx), ctx)
        let y = try labelBuffer.tensor([b], on: backend)
        try y.copy(from: labels)
        let meanLoss = try loss.forward(prediction, labels: y)
        let pUp = try prediction.confident().map(\.probability)
        guard train else { return (meanLoss, pUp) }

        try store.zeroGradients()
        let (dAlpha, dBeta) = try loss.backward()
        let dh = try drop.backward(head.backward(dAlpha: dAlpha, dBeta: dBeta, ctx), ctx)
        try conv.backwardParametersOnly(relu.backward(lstm.backward(pool.backward(dh, ctx), ctx), ctx), ctx)
        return (meanLoss, pUp)
    }
}
