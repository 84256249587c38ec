/// `nn.Linear`: y = x W^T + b over the last dimension; any leading dimensions. Parameters `<name>.weight`
/// (OUT, IN) and `<name>.bias` (OUT), PyTorch default init (uniform ±1/sqrt(IN)).
///
///     var layout = ParameterLayout()
///     let fc = try Linear(512, 256, name: "proj", layout: &layout)
///     let y = try fc.forward(x, ctx)        // x (B, L, 512) -> y (B, L, 256)
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: ParameterID
    public let bias: ParameterID?
    private var output = ActivationBuffer()
    private var dInput = ActivationBuffer()
    private var input: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, name: String,
                layout: inout ParameterLayout, weightInit: ParameterInit? = nil, biasInit: ParameterInit? = nil) throws(EngineError) {
        guard inFeatures > 0, outFeatures > 0 else {
            throw .invalidArgument(context: "Linear '\(name)'", message: "sizes must be positive (\(inFeatures) -> \(outFeatures))")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let standard = ParameterInit.kaimingUniform(fanIn: inFeatures)
        weight = try layout.declare("weight", prefix: name, shape: [outFeatures, inFeatures], initializer: weightInit ?? standard)
        self.bias = bias ? try layout.declare("bias", prefix: name, shape: [outFeatures], initializer: biasInit ?? standard) : nil
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let rows = try rowsAndColumns(x.shape, expecting: inFeatures, "Linear forward")
        let y = try output.tensor(Array(x.shape.dropLast()) + [outFeatures], on: ctx.backend)
        try ctx.backend.linearForward(out: y, input: x, weight: ctx.value(weight), bias: bias.map(ctx.value),
                                      rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        input = ctx.training ? x : nil
        return y
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let x = try saved(input, "Linear")
        let rows = try rowsAndColumns(dOut.shape, expecting: outFeatures, "Linear backward")
        // dx = dOut @ W written directly (beta 0: no zero-fill pass); linearBackward adds the parameter gradients.
        var dx: Tensor? = nil
        if inputGradient {
            let d = try dInput.tensor(x.shape, on: ctx.backend)
            try ctx.backend.gemm(d, dOut, ctx.value(weight), m: rows, n: inFeatures, k: outFeatures)
            dx = d
        }
        try ctx.backend.linearBackward(dInput: nil, dWeight: ctx.gradient(weight), dBias: bias.flatMap(ctx.gradient),
                                       dOut: dOut, input: x, weight: ctx.value(weight), rows: rows,
                                       inFeatures: inFeatures, outFeatures: outFeatures)
        return dx
    }
}
