import Engine

/// medium_term (models.md): a simplified Temporal Fusion Transformer — variable selection -> LSTM encoder ->
/// gated skip (LayerNorm(selected + GLU(lstm))) -> interpretable multi-head attention with GLU gate, residual and
/// LayerNorm -> position-wise GRN -> last step -> BetaHead.
///
/// Parameter names (tools/reference/models.py `MediumTerm`): `vsn.embed_weight`, `vsn.embed_bias`, `vsn.grn.*`,
/// `lstm.*_l0`, `post_lstm.gate.fc`, `post_lstm.norm`, `attn.q_proj/k_proj/v_proj/out_proj`, `post_attn.*`,
/// `grn.fc1/fc2/gate.fc/norm`, `head.linear`.
///
///     let model = try MediumTermModel(MediumTermConfig(), backend: .cpu)
///     let out = try model.forward(ModelInput(features: x))     // x (B, 96, 32)
///     let ranked = try model.featureImportance(names: names)   // [(name, weight)], largest first
public final class MediumTermModel: HorizonModel {
    public let config: MediumTermConfig
    public var configuration: ModelConfiguration { .mediumTerm(config) }
    public let parameters: ParameterStore
    public let context: Context

    let selection: VariableSelection
    let lstm: LSTM
    let postLSTM: GateAddNorm
    let attention: InterpretableMultiHeadAttention
    let postAttention: GateAddNorm
    let grn: GatedResidualNetwork
    let lastStep = TimePool(.last)
    let head: BetaHead
    private var importanceBuffer = ActivationBuffer()
    private var selectedGradient = GradientSum()
    private var attentionInputGradient = GradientSum()

    public init(_ config: MediumTermConfig, backend: Backend, seed: UInt64 = 0, trainable: Bool = true,
                parameterLimit: Int = ParameterLayout.defaultLimit) throws(EngineError) {
        self.config = config
        var layout = ParameterLayout(limit: parameterLimit)
        let d = config.dModel, eps = config.layerNormEps
        selection = try VariableSelection(features: config.inputFeatures, dModel: d, eps: eps, name: "vsn", layout: &layout)
        lstm = try LSTM(inputSize: d, hiddenSize: d, name: "lstm", layout: &layout)
        postLSTM = try GateAddNorm(d, eps: eps, name: "post_lstm", layout: &layout)
        attention = try InterpretableMultiHeadAttention(dModel: d, heads: config.attentionHeads, name: "attn", layout: &layout)
        postAttention = try GateAddNorm(d, eps: eps, name: "post_attn", layout: &layout)
        grn = try GatedResidualNetwork(input: d, hidden: d, output: d, eps: eps, name: "grn", layout: &layout)
        head = try BetaHead(d, name: "head", layout: &layout)
        parameters = try ParameterStore(layout: layout, backend: backend, seed: seed, withGradients: trainable)
        context = Context(parameters: parameters, training: trainable, dropoutSeed: seed)
    }

    public func forward(_ input: ModelInput) throws(EngineError) -> ModelOutput {
        try validate(input)
        let ctx = context
        let selected = try selection.forward(input.features, ctx)
        let encoded = try postLSTM.forward(lstm.forward(selected, ctx), residual: selected, ctx)
        let attended = try postAttention.forward(attention.forward(encoded, ctx), residual: encoded, ctx)
        let h = try lastStep.forward(grn.forward(attended, ctx), ctx)
        var out = ModelOutput(prediction: try head.forward(h, ctx))
        let weights = try saved(selection.weights)
        let (b, l, f) = (weights.shape[0], weights.shape[1], weights.shape[2])
        let importance = try importanceBuffer.tensor([f], on: ctx.backend)
        try ctx.backend.meanPoolForward(out: importance, input: weights, batch: 1, length: b * l, channels: f)
        out.variableWeights = weights
        out.importance = importance
        out.attention = attention.attentionWeights
        return out
    }

    public func backward(_ gradients: OutputGradients, inputGradients: Bool) throws(EngineError) -> InputGradients? {
        let ctx = context
        var d = try head.backward(dAlpha: gradients.alpha, dBeta: gradients.beta, ctx)
        d = try grn.backward(lastStep.backward(d, ctx), ctx)
        let (dAttended, dEncodedSkip) = try postAttention.backward(d, ctx)
        let dEncoded = try attentionInputGradient.sum(dEncodedSkip, attention.backward(dAttended, ctx))
        let (dLSTM, dSelectedSkip) = try postLSTM.backward(dEncoded, ctx)
        let dSelected = try selectedGradient.sum(dSelectedSkip, lstm.backward(dLSTM, ctx))
        guard let dx = try selection.backward(dSelected, ctx, inputGradient: inputGradients) else { return nil }
        return InputGradients(features: dx)
    }

    /// The variable-selection weights of the last forward averaged over batch and time, paired with `names`
    /// (the feature set's column names), largest first.
    public func featureImportance(names: [String]) throws(EngineError) -> [(name: String, importance: Float)] {
        guard names.count == config.inputFeatures else {
            throw .shapeMismatch(context: "featureImportance", message: "\(names.count) names for \(config.inputFeatures) features")
        }
        let weights = try saved(selection.weights)
        let (b, l, f) = (weights.shape[0], weights.shape[1], weights.shape[2])
        let values = try weights.toArray()
        var sums = [Double](repeating: 0, count: f)
        for r in 0 ..< b * l { for j in 0 ..< f { sums[j] += Double(values[r * f + j]) } }
        return zip(names, sums).map { ($0, Float($1 / Double(b * l))) }.sorted { $0.importance > $1.importance }
    }

    private func saved(_ weights: Tensor?) throws(EngineError) -> Tensor {
        guard let weights else { throw .invalidState(context: "MediumTermModel", message: "no forward pass yet") }
        return weights
    }
}
