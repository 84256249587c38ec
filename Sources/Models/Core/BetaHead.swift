import Engine

/// The common output head (models.md): Linear(d_in -> 2), then alpha = softplus(z0) + 1e-3 and
/// beta = softplus(z1) + 1e-3. Parameters `<name>.linear.weight` (2, d_in) and `<name>.linear.bias` (2).
///
///     let head = try BetaHead(128, name: "head", layout: &layout)
///     let prediction = try head.forward(h, ctx)          // h (B, 128) -> alpha, beta (B)
///     let dh = try head.backward(dAlpha: da, dBeta: db, ctx)
public final class BetaHead {
    /// Added to both softplus outputs so alpha and beta stay strictly positive.
    public static let epsilon: Float = 1e-3

    public let linear: Linear
    private let softplus = ActivationLayer(.softplus)
    private var alphaBuffer = ActivationBuffer()
    private var betaBuffer = ActivationBuffer()
    private var dActivated = ActivationBuffer()

    public init(_ inFeatures: Int, name: String, layout: inout ParameterLayout) throws(EngineError) {
        linear = try Linear(inFeatures, 2, name: ParameterLayout.join(name, "linear"), layout: &layout)
    }

    public func forward(_ h: Tensor, _ ctx: Context) throws(EngineError) -> BetaPrediction {
        guard h.rank == 2 else { throw .shapeMismatch(context: "BetaHead forward", message: "expected (B, d), got \(h.shape)") }
        let b = h.shape[0]
        let activated = try softplus.forward(linear.forward(h, ctx), ctx)
        let alpha = try alphaBuffer.tensor([b], on: ctx.backend)
        let beta = try betaBuffer.tensor([b], on: ctx.backend)
        try ctx.backend.copy2D(alpha, ldd: 1, activated, lds: 2, rows: b, columns: 1, accumulate: false)
        try ctx.backend.copy2D(beta, ldd: 1, activated.view(offset: 1, shape: [2 * b - 1]), lds: 2, rows: b, columns: 1,
                               accumulate: false)
        try ctx.backend.scaleShift(alpha, alpha: 1, beta: Self.epsilon, count: b)
        try ctx.backend.scaleShift(beta, alpha: 1, beta: Self.epsilon, count: b)
        return BetaPrediction(alpha: alpha, beta: beta)
    }

    /// Parameter gradients (accumulated) and the gradient of the head's input (B, d_in).
    public func backward(dAlpha: Tensor, dBeta: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let b = dAlpha.count
        let d = try dActivated.tensor([b, 2], on: ctx.backend)
        try ctx.backend.copy2D(d, ldd: 2, dAlpha, lds: 1, rows: b, columns: 1, accumulate: false)
        try ctx.backend.copy2D(d.view(offset: 1, shape: [2 * b - 1]), ldd: 2, dBeta, lds: 1, rows: b, columns: 1,
                               accumulate: false)
        return try linear.backward(softplus.backward(d, ctx), ctx)
    }
}
