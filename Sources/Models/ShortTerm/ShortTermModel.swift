import Engine

/// short_term (models.md): Conv1d stack with ReLU -> dropout -> BiLSTM -> Linear -> multi-head self-attention
/// with residual and LayerNorm -> [last step, mean over time] -> Linear -> ReLU -> dropout -> BetaHead.
///
/// Parameter names (the PyTorch reference's, tools/reference/models.py `ShortTerm`): `convs.<i>.weight/bias`,
/// `lstm.weight_ih_l<k>[_reverse]` ..., `proj`, `attn.in_proj_weight/in_proj_bias/out_proj`, `norm`, `fc`,
/// `head.linear`.
///
///     let model = try ShortTermModel(ShortTermConfig(), backend: .cpu, seed: 1)
///     let out = try model.forward(ModelInput(features: x))   // x (B, 64, 32)
///     out.attention                                           // (B, 8, 64, 64)
public final class ShortTermModel: HorizonModel {
    public let config: ShortTermConfig
    public var configuration: ModelConfiguration { .shortTerm(config) }
    public let parameters: ParameterStore
    public let context: Context

    let convs: [Conv1d]
    let convActivations: [ActivationLayer]
    let convDropout: Dropout
    let lstm: LSTM
    let proj: Linear
    let attention: MultiHeadAttention
    let residual = Add()
    let norm: LayerNorm
    let lastStep = TimePool(.last)
    let meanStep = TimePool(.mean)
    let pool = Concat()
    let fc: Linear
    let fcActivation = ActivationLayer(.relu)
    let fcDropout: Dropout
    let head: BetaHead
    private var normInputGradient = GradientSum()
    private var poolGradient = GradientSum()

    /// A new model with PyTorch-default initialisation drawn from `seed`; `trainable: false` allocates no
    /// gradient buffer (inference only).
    public init(_ config: ShortTermConfig, backend: Backend, seed: UInt64 = 0, trainable: Bool = true,
                parameterLimit: Int = ParameterLayout.defaultLimit) throws(EngineError) {
        self.config = config
        var layout = ParameterLayout(limit: parameterLimit)
        let channels = [config.inputFeatures] + config.convChannels
        var convs: [Conv1d] = []
        for i in config.convKernels.indices {
            convs.append(try Conv1d(channels[i], channels[i + 1], kernelSize: config.convKernels[i], name: "convs.\(i)",
                                    layout: &layout))
        }
        self.convs = convs
        convActivations = convs.map { _ in ActivationLayer(.relu) }
        convDropout = try Dropout(config.convDropout)
        lstm = try LSTM(inputSize: channels.last!, hiddenSize: config.lstmHidden, layers: config.lstmLayers,
                        bidirectional: true, dropout: config.lstmLayers > 1 ? config.lstmDropout : 0, name: "lstm",
                        layout: &layout)
        proj = try Linear(2 * config.lstmHidden, config.attentionDim, name: "proj", layout: &layout)
        attention = try MultiHeadAttention(embedDim: config.attentionDim, heads: config.attentionHeads, name: "attn",
                                           layout: &layout)
        norm = try LayerNorm(config.attentionDim, eps: config.layerNormEps, name: "norm", layout: &layout)
        fc = try Linear(2 * config.attentionDim, config.fcHidden, name: "fc", layout: &layout)
        fcDropout = try Dropout(config.fcDropout)
        head = try BetaHead(config.fcHidden, name: "head", layout: &layout)
        parameters = try ParameterStore(layout: layout, backend: backend, seed: seed, withGradients: trainable)
        context = Context(parameters: parameters, training: trainable, dropoutSeed: seed)
    }

    public func forward(_ input: ModelInput) throws(EngineError) -> ModelOutput {
        try validate(input)
        let ctx = context
        var h = input.features
        for (conv, relu) in zip(convs, convActivations) { h = try relu.forward(conv.forward(h, ctx), ctx) }
        h = try convDropout.forward(h, ctx)
        h = try proj.forward(lstm.forward(h, ctx), ctx)
        let attended = try attention.forward(h, ctx)
        let normalized = try norm.forward(residual.forward(h, attended, ctx), ctx)
        let pooled = try pool.forward([lastStep.forward(normalized, ctx), meanStep.forward(normalized, ctx)], ctx)
        let z = try fcDropout.forward(fcActivation.forward(fc.forward(pooled, ctx), ctx), ctx)
        var out = ModelOutput(prediction: try head.forward(z, ctx))
        out.attention = attention.attentionWeights
        return out
    }

    public func backward(_ gradients: OutputGradients, inputGradients: Bool) throws(EngineError) -> InputGradients? {
        let ctx = context
        var d = try head.backward(dAlpha: gradients.alpha, dBeta: gradients.beta, ctx)
        d = try fc.backward(fcActivation.backward(fcDropout.backward(d, ctx), ctx), ctx)
        let parts = try pool.backward(d, ctx)
        d = try poolGradient.sum(lastStep.backward(parts[0], ctx), meanStep.backward(parts[1], ctx))
        let dSum = try norm.backward(d, ctx)
        d = try normInputGradient.sum(dSum, attention.backward(dSum, ctx))
        d = try convDropout.backward(lstm.backward(proj.backward(d, ctx), ctx), ctx)
        for i in convs.indices.reversed() {
            d = try convActivations[i].backward(d, ctx)
            if i == 0 {
                guard let dx = try convs[0].backward(d, ctx, inputGradient: inputGradients) else { return nil }
                return InputGradients(features: dx)
            }
            d = try convs[i].backward(d, ctx)
        }
        return nil
    }
}
