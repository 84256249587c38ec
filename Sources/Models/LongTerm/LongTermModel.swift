import Engine

/// long_term (models.md): N-BEATS on the normalised close series (trend stack then seasonality stack, doubly
/// residual) giving a forecast (B, H); a pre-LayerNorm Transformer encoder on the features (Linear(F -> d) +
/// sinusoidal positions) pooled by the mean over time; fusion Linear(H + d -> 128) + ReLU -> BetaHead; and the
/// optional regime head softplus(Linear(128 -> 3)) + 1, Dirichlet concentrations.
///
/// Parameter names (tools/reference/models.py `LongTerm`): `trend_blocks.<i>.*`, `seasonality_blocks.<i>.*`,
/// `input_proj`, `encoder.layers.<k>.*`, `fusion`, `head.linear`, `regime`.
///
///     let model = try LongTermModel(LongTermConfig(), backend: .cpu)
///     let out = try model.forward(ModelInput(features: x, close: close))   // x (B, 128, 32), close (B, 128)
///     out.forecast     // (B, 8)
///     out.regime       // (B, 3)
public final class LongTermModel: HorizonModel {
    public let config: LongTermConfig
    public var configuration: ModelConfiguration { .longTerm(config) }
    public let parameters: ParameterStore
    public let context: Context

    let blocks: [NBeatsBlock]
    let inputProjection: Linear
    let positions: PositionalEncoding
    let encoder: [TransformerEncoderLayer]
    let meanPool = TimePool(.mean)
    let fusionInput = Concat()
    let fusion: Linear
    let fusionActivation = ActivationLayer(.relu)
    let head: BetaHead
    let regime: Linear?
    let regimeActivation = ActivationLayer(.softplus)
    private var forecastBuffer = ActivationBuffer()
    private var regimeBuffer = ActivationBuffer()
    private var dForecastTotal = GradientSum()
    private var dFused = GradientSum()
    private var dFinalResidual = ActivationBuffer()

    public init(_ config: LongTermConfig, backend: Backend, seed: UInt64 = 0, trainable: Bool = true,
                parameterLimit: Int = ParameterLayout.defaultLimit) throws(EngineError) {
        self.config = config
        var layout = ParameterLayout(limit: parameterLimit)
        let (l, h) = (config.sequenceLength, config.forecastHorizon)
        var blocks: [NBeatsBlock] = []
        let trendB = NBeatsBasis.trend(degree: config.trendDegree, length: l)
        let trendF = NBeatsBasis.trend(degree: config.trendDegree, length: h)
        for i in 0 ..< config.trendBlocks {
            blocks.append(try NBeatsBlock(length: l, horizon: h, width: config.blockWidth, layers: config.blockLayers,
                                          backcastBasis: trendB, forecastBasis: trendF, thetaSize: config.trendThetaSize,
                                          name: "trend_blocks.\(i)", layout: &layout, backend: backend))
        }
        let seasonB = NBeatsBasis.seasonality(harmonics: config.harmonics, length: l, horizon: h)
        let seasonF = NBeatsBasis.seasonality(harmonics: config.harmonics, length: h, horizon: h)
        for i in 0 ..< config.seasonalityBlocks {
            blocks.append(try NBeatsBlock(length: l, horizon: h, width: config.blockWidth, layers: config.blockLayers,
                                          backcastBasis: seasonB, forecastBasis: seasonF,
                                          thetaSize: config.seasonalityThetaSize, name: "seasonality_blocks.\(i)",
                                          layout: &layout, backend: backend))
        }
        self.blocks = blocks
        inputProjection = try Linear(config.inputFeatures, config.dModel, name: "input_proj", layout: &layout)
        positions = PositionalEncoding(dModel: config.dModel)
        var encoder: [TransformerEncoderLayer] = []
        for k in 0 ..< config.encoderLayers {
            encoder.append(try TransformerEncoderLayer(dModel: config.dModel, heads: config.attentionHeads,
                                                       feedforward: config.feedforward, dropout: config.dropout,
                                                       eps: config.layerNormEps, name: "encoder.layers.\(k)", layout: &layout))
        }
        self.encoder = encoder
        fusion = try Linear(h + config.dModel, config.fusionHidden, name: "fusion", layout: &layout)
        head = try BetaHead(config.fusionHidden, name: "head", layout: &layout)
        regime = config.regimeHead ? try Linear(config.fusionHidden, config.regimeClasses, name: "regime", layout: &layout) : nil
        parameters = try ParameterStore(layout: layout, backend: backend, seed: seed, withGradients: trainable)
        context = Context(parameters: parameters, training: trainable, dropoutSeed: seed)
    }

    public func forward(_ input: ModelInput) throws(EngineError) -> ModelOutput {
        try validate(input)
        let ctx = context
        let b = input.batchSize
        let forecast = try forecastBuffer.tensor([b, config.forecastHorizon], on: ctx.backend)
        var residual = input.close!
        for (i, block) in blocks.enumerated() {
            residual = try block.forward(residual: residual, forecast: forecast, first: i == 0, ctx)
        }
        var h = try positions.forward(inputProjection.forward(input.features, ctx), ctx)
        for layer in encoder { h = try layer.forward(h, ctx) }
        let pooled = try meanPool.forward(h, ctx)
        let z = try fusionActivation.forward(fusion.forward(fusionInput.forward([forecast, pooled], ctx), ctx), ctx)
        var out = ModelOutput(prediction: try head.forward(z, ctx))
        out.forecast = forecast
        if let regime {
            let activated = try regimeActivation.forward(regime.forward(z, ctx), ctx)
            let concentration = try regimeBuffer.tensor(activated.shape, on: ctx.backend)
            try concentration.copy(from: activated)
            try ctx.backend.scaleShift(concentration, alpha: 1, beta: 1, count: concentration.count)
            out.regime = concentration
        }
        return out
    }

    public func backward(_ gradients: OutputGradients, inputGradients: Bool) throws(EngineError) -> InputGradients? {
        let ctx = context
        var dz = try head.backward(dAlpha: gradients.alpha, dBeta: gradients.beta, ctx)
        if let regime, let dRegime = gradients.regime {
            let dActivated = try regimeActivation.backward(dRegime, ctx)   // d(softplus + 1) = d softplus
            dz = try dFused.sum(dz, regime.backward(dActivated, ctx))
        }
        let parts = try fusionInput.backward(fusion.backward(fusionActivation.backward(dz, ctx), ctx), ctx)
        var dh = try meanPool.backward(parts[1], ctx)
        for layer in encoder.reversed() { dh = try layer.backward(dh, ctx) }
        let dFeatures = try inputProjection.backward(positions.backward(dh, ctx), ctx, inputGradient: inputGradients)
        var dForecast = parts[0]
        if let extra = gradients.forecast { dForecast = try dForecastTotal.sum(dForecast, extra) }
        var dResidual = try dFinalResidual.zeros([dForecast.shape[0], config.sequenceLength], on: ctx.backend)
        for block in blocks.reversed() {
            dResidual = try block.backward(dNextResidual: dResidual, dForecast: dForecast, ctx)
        }
        guard inputGradients, let dFeatures else { return nil }
        return InputGradients(features: dFeatures, close: dResidual)
    }
}
