/// Softmax over the last dimension (`torch.softmax(x, dim=-1)`), e.g. the variable-selection weights of the TFT.
///
///     let softmax = Softmax()
///     let w = try softmax.forward(logits, ctx)     // (..., F), rows sum to 1
public final class Softmax: Layer {
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var saved: Tensor?

    public init() {}

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        guard let columns = x.shape.last, columns > 0 else {
            throw .shapeMismatch(context: "Softmax forward", message: "needs a non-empty last dimension, got \(x.shape)")
        }
        let y = try output.tensor(x.shape, on: ctx.backend)
        try ctx.backend.softmaxForward(out: y, input: x, rows: x.count / columns, columns: columns)
        saved = ctx.training ? y : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        guard inputGradient else { return nil }
        let y = try Engine.saved(saved, "Softmax")
        let columns = y.shape.last!
        let dx = try dInput.zeros(y.shape, on: ctx.backend)
        try ctx.backend.softmaxBackward(dInput: dx, dOut: dOut, out: y, rows: y.count / columns, columns: columns)
        return dx
    }
}
