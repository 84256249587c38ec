/// The TFT gated linear unit: GLU(x) = Linear_a(x) * sigmoid(Linear_b(x)), computed as one Linear(IN -> 2 OUT)
/// named `<name>.fc` followed by `torch.nn.functional.glu(dim=-1)` (first half values, second half gates), as
/// pytorch-forecasting's `GatedLinearUnit`.
///
///     let gate = try GatedLinearUnit(128, 128, name: "gate", layout: &layout)
///     let g = try gate.forward(x, ctx)      // (..., 128) -> (..., 128)
public final class GatedLinearUnit: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let fc: Linear
    private var output = ActivationBuffer()
    private var dLinear = ActivationBuffer()
    private var linearOut: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, name: String, layout: inout ParameterLayout) throws(EngineError) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        fc = try Linear(inFeatures, 2 * outFeatures, name: ParameterLayout.join(name, "fc"), layout: &layout)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let u = try fc.forward(x, ctx)
        let rows = u.count / (2 * outFeatures)
        let y = try output.tensor(Array(x.shape.dropLast()) + [outFeatures], on: ctx.backend)
        try ctx.backend.gluForward(out: y, input: u, rows: rows, columns: outFeatures)
        linearOut = ctx.training ? u : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let u = try saved(linearOut, "GatedLinearUnit")
        let du = try dLinear.zeros(u.shape, on: ctx.backend)
        try ctx.backend.gluBackward(dInput: du, dOut: dOut, input: u, rows: u.count / (2 * outFeatures), columns: outFeatures)
        return try fc.backward(du, ctx, inputGradient: inputGradient)
    }
}
