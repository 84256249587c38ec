import Engine

/// The TFT gated skip connection: LayerNorm(residual + GLU(x)), parameters `<name>.gate.fc` (GLU, d -> 2d) and
/// `<name>.norm`.
///
///     let postLSTM = try GateAddNorm(128, eps: 1e-5, name: "post_lstm", layout: &layout)
///     let h = try postLSTM.forward(lstmOut, residual: selected, ctx)
///     let (dX, dResidual) = try postLSTM.backward(dh, ctx)
public final class GateAddNorm {
    public let gate: GatedLinearUnit
    public let norm: LayerNorm
    private let add = Add()

    public init(_ features: Int, eps: Float, name: String, layout: inout ParameterLayout) throws(EngineError) {
        gate = try GatedLinearUnit(features, features, name: ParameterLayout.join(name, "gate"), layout: &layout)
        norm = try LayerNorm(features, eps: eps, name: ParameterLayout.join(name, "norm"), layout: &layout)
    }

    public func forward(_ x: Tensor, residual: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        try norm.forward(add.forward(residual, gate.forward(x, ctx), ctx), ctx)
    }

    /// Gradients of x (gated branch) and of the residual (both layer-owned memory).
    public func backward(_ dOut: Tensor, _ ctx: Context) throws(EngineError) -> (x: Tensor, residual: Tensor) {
        let dSum = try norm.backward(dOut, ctx)
        return (try gate.backward(dSum, ctx), dSum)
    }
}
