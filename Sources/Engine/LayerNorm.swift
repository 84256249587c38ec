/// `nn.LayerNorm(C, eps)` over the last dimension, with affine weight (init 1) and bias (init 0), named
/// `<name>.weight` and `<name>.bias`. Biased variance, as PyTorch.
///
///     let norm = try LayerNorm(256, name: "attn_norm", layout: &layout)
public final class LayerNorm: Layer {
    public let features: Int
    public let eps: Float
    public let weight: ParameterID
    public let bias: ParameterID
    private var output = ActivationBuffer()
    private var stats = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var saved: (input: Tensor, mean: Tensor, rstd: Tensor)?

    public init(_ features: Int, eps: Float = 1e-5, name: String, layout: inout ParameterLayout) throws(EngineError) {
        guard features > 0 else { throw .invalidArgument(context: "LayerNorm '\(name)'", message: "features must be positive") }
        self.features = features
        self.eps = eps
        weight = try layout.declare("weight", prefix: name, shape: [features], initializer: .constant(1))
        bias = try layout.declare("bias", prefix: name, shape: [features], initializer: .constant(0))
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let rows = try rowsAndColumns(x.shape, expecting: features, "LayerNorm forward")
        let y = try output.tensor(x.shape, on: ctx.backend)
        let s = try stats.tensor([2 * rows], on: ctx.backend)
        let mean = try s.view(offset: 0, shape: [rows]), rstd = try s.view(offset: rows, shape: [rows])
        try ctx.backend.layerNormForward(out: y, mean: mean, rstd: rstd, input: x, weight: ctx.value(weight),
                                         bias: ctx.value(bias), rows: rows, columns: features, eps: eps)
        saved = ctx.training ? (x, mean, rstd) : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let (x, mean, rstd) = try Engine.saved(saved, "LayerNorm")
        let rows = try rowsAndColumns(dOut.shape, expecting: features, "LayerNorm backward")
        let dx = inputGradient ? try dInput.zeros(x.shape, on: ctx.backend) : nil
        try ctx.backend.layerNormBackward(dInput: dx, dWeight: ctx.gradient(weight), dBias: ctx.gradient(bias),
                                          dOut: dOut, input: x, weight: ctx.value(weight), mean: mean, rstd: rstd,
                                          rows: rows, columns: features)
        return dx
    }
}
