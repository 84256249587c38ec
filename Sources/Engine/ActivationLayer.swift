/// An element-wise activation as a layer: ReLU, GELU (exact erf form), ELU (alpha 1), sigmoid, tanh, softplus
/// (beta 1, threshold 20) — PyTorch's defaults.
///
///     let act = ActivationLayer(.relu)
///     let h = try act.forward(x, ctx)
public final class ActivationLayer: Layer {
    public let activation: Activation
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var saved: (input: Tensor, output: Tensor)?

    public init(_ activation: Activation) { self.activation = activation }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let y = try output.tensor(x.shape, on: ctx.backend)
        try ctx.backend.activationForward(out: y, input: x, count: x.count, activation)
        saved = ctx.training ? (x, y) : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        guard inputGradient else { return nil }
        let (x, y) = try Engine.saved(saved, "ActivationLayer")
        let dx = try dInput.zeros(x.shape, on: ctx.backend)
        try ctx.backend.activationBackward(dInput: dx, dOut: dOut, input: x, out: y, count: x.count, activation)
        return dx
    }
}
