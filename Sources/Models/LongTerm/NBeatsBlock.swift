import Engine

/// One N-BEATS block: `layers` x (Linear, ReLU) of width W on the residual series (B, L), then bias-free theta
/// layers `theta_b` (W -> P_b) and `theta_f` (W -> P_f) expanded through the fixed bases into a backcast (B, L)
/// and a forecast (B, H). The doubly residual stack subtracts the backcast from the series and adds the forecast
/// (`forward(residual:forecast:)` does both with `basis_expand`).
///
/// Parameters `<name>.layers.<j>.weight/bias`, `<name>.theta_b.weight`, `<name>.theta_f.weight`.
///
///     let block = try NBeatsBlock(length: 128, horizon: 8, width: 256, layers: 4,
///                                 backcastBasis: b, forecastBasis: f, thetaSize: 4, name: "trend_blocks.0",
///                                 layout: &layout, backend: .cpu)
public final class NBeatsBlock {
    public let length: Int
    public let horizon: Int
    public let thetaSize: Int
    let layers: [Linear]
    let activations: [ActivationLayer]
    let thetaBackcast: Linear
    let thetaForecast: Linear
    let backcastBasis: Tensor
    let forecastBasis: Tensor
    private var nextResidual = ActivationBuffer()
    private var dThetaB = ActivationBuffer()
    private var dThetaF = ActivationBuffer()
    private var dHidden = GradientSum()
    private var dResidual = GradientSum()

    public init(length: Int, horizon: Int, width: Int, layers count: Int, backcastBasis: [Float], forecastBasis: [Float],
                thetaSize: Int, name: String, layout: inout ParameterLayout, backend: Backend) throws(EngineError) {
        self.length = length
        self.horizon = horizon
        self.thetaSize = thetaSize
        var layers: [Linear] = []
        for j in 0 ..< count {
            layers.append(try Linear(j == 0 ? length : width, width, name: "\(name).layers.\(j)", layout: &layout))
        }
        self.layers = layers
        activations = layers.map { _ in ActivationLayer(.relu) }
        thetaBackcast = try Linear(width, thetaSize, bias: false, name: "\(name).theta_b", layout: &layout)
        thetaForecast = try Linear(width, thetaSize, bias: false, name: "\(name).theta_f", layout: &layout)
        self.backcastBasis = try Tensor(backcastBasis, shape: [thetaSize, length], on: backend)
        self.forecastBasis = try Tensor(forecastBasis, shape: [thetaSize, horizon], on: backend)
    }

    /// Returns the next residual (B, L) = residual - backcast and adds (or, when `first`, writes) this block's
    /// forecast into `forecast` (B, H).
    public func forward(residual: Tensor, forecast: Tensor, first: Bool, _ ctx: Context) throws(EngineError) -> Tensor {
        let b = residual.shape[0]
        var h = residual
        for (layer, relu) in zip(layers, activations) { h = try relu.forward(layer.forward(h, ctx), ctx) }
        let thetaB = try thetaBackcast.forward(h, ctx)
        let thetaF = try thetaForecast.forward(h, ctx)
        let next = try nextResidual.tensor(residual.shape, on: ctx.backend)
        try next.copy(from: residual)
        try ctx.backend.basisExpandForward(out: next, theta: thetaB, basis: backcastBasis, rows: b, thetaSize: thetaSize,
                                           length: length, scale: -1, accumulate: true)
        try ctx.backend.basisExpandForward(out: forecast, theta: thetaF, basis: forecastBasis, rows: b, thetaSize: thetaSize,
                                           length: horizon, scale: 1, accumulate: !first)
        return next
    }

    /// From the gradients of this block's outputs (the next residual and the stack's forecast) to the gradient of
    /// its input residual; parameter gradients accumulate.
    public func backward(dNextResidual: Tensor, dForecast: Tensor, _ ctx: Context) throws(EngineError) -> Tensor {
        let b = dNextResidual.shape[0]
        let gB = try dThetaB.zeros([b, thetaSize], on: ctx.backend)
        try ctx.backend.basisExpandBackward(dTheta: gB, dOut: dNextResidual, basis: backcastBasis, rows: b,
                                            thetaSize: thetaSize, length: length, scale: -1)
        let gF = try dThetaF.zeros([b, thetaSize], on: ctx.backend)
        try ctx.backend.basisExpandBackward(dTheta: gF, dOut: dForecast, basis: forecastBasis, rows: b,
                                            thetaSize: thetaSize, length: horizon, scale: 1)
        var d = try dHidden.sum(thetaBackcast.backward(gB, ctx), thetaForecast.backward(gF, ctx))
        for j in layers.indices.reversed() { d = try layers[j].backward(activations[j].backward(d, ctx), ctx) }
        return try dResidual.sum(dNextResidual, d)
    }
}
