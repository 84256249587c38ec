/// The TFT gated residual network (models.md):
/// GRN(x) = LayerNorm(skip(x) + GLU(Linear_2(ELU(Linear_1(x))))), where skip is the identity when input and
/// output widths agree and a Linear projection otherwise; no dropout.
///
/// Parameters: `<name>.fc1` (IN -> HIDDEN), `<name>.fc2` (HIDDEN -> HIDDEN), `<name>.gate.fc` (HIDDEN -> 2 OUT,
/// see `GatedLinearUnit`), `<name>.skip` (IN -> OUT, only when IN != OUT), `<name>.norm` (LayerNorm(OUT)).
///
///     let grn = try GatedResidualNetwork(input: 32, hidden: 128, output: 32, name: "vsn.grn", layout: &layout)
///     let y = try grn.forward(x, ctx)       // (..., 32) -> (..., 32)
public final class GatedResidualNetwork: Layer {
    public let inputSize: Int
    public let hiddenSize: Int
    public let outputSize: Int
    public let fc1: Linear
    public let elu = ActivationLayer(.elu)
    public let fc2: Linear
    public let gate: GatedLinearUnit
    public let skip: Linear?
    public let norm: LayerNorm
    private var sum = ActivationBuffer()

    public init(input: Int, hidden: Int, output: Int, eps: Float = 1e-5, name: String,
                layout: inout ParameterLayout) throws(EngineError) {
        inputSize = input
        hiddenSize = hidden
        outputSize = output
        func p(_ s: String) -> String { ParameterLayout.join(name, s) }
        fc1 = try Linear(input, hidden, name: p("fc1"), layout: &layout)
        fc2 = try Linear(hidden, hidden, name: p("fc2"), layout: &layout)
        gate = try GatedLinearUnit(hidden, output, name: p("gate"), layout: &layout)
        skip = input == output ? nil : try Linear(input, output, name: p("skip"), layout: &layout)
        norm = try LayerNorm(output, eps: eps, name: p("norm"), layout: &layout)
    }

    public func forward(_ x: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let g = try gate.forward(fc2.forward(elu.forward(fc1.forward(x, ctx), ctx), ctx), ctx)
        let residual = try skip?.forward(x, ctx) ?? x
        let s = try sum.tensor(g.shape, on: ctx.backend)
        try s.copy(from: g)
        try ctx.backend.axpy(s, residual, alpha: 1, count: s.count)
        return try norm.forward(s, ctx)
    }

    public func backward(_ dOut: Tensor, _ ctx: Context, inputGradient: Bool) throws(EngineError) -> Tensor? {
        let dSum = try norm.backward(dOut, ctx)
        let dHidden = try elu.backward(fc2.backward(gate.backward(dSum, ctx), ctx), ctx)
        let dx = try fc1.backward(dHidden, ctx, inputGradient: inputGradient)
        if let skip {
            let dSkip = try skip.backward(dSum, ctx, inputGradient: inputGradient)
            if let dx, let dSkip { try ctx.backend.axpy(dx, dSkip, alpha: 1, count: dx.count) }
        } else if let dx {
            try ctx.backend.axpy(dx, dSum, alpha: 1, count: dx.count)
        }
        return dx
    }
}
