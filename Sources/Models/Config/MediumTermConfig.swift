import Common

/// Sizes of the medium_term model (simplified Temporal Fusion Transformer -> Beta head). Defaults from
/// shared/design/models.md and configs/models/medium_term.yaml.
///
///     let config = MediumTermConfig()   // L = 96, d = 128, 4 heads, F = 32
public struct MediumTermConfig: Codable, Equatable, Sendable {
    public var modelType: ModelType = .mediumTerm
    public var sequenceLength = 96
    public var inputFeatures = 32
    /// d: width of the variable embeddings, the LSTM, the attention and the GRNs.
    public var dModel = 128
    public var attentionHeads = 4
    public var layerNormEps: Float = 1e-5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelType = "model_type", sequenceLength = "sequence_length", inputFeatures = "input_features"
        case dModel = "d_model", attentionHeads = "attention_heads", layerNormEps = "layer_norm_eps"
    }

    public init() {}

    public init(yaml node: YAMLNode) throws(ModelError) {
        let f = try ConfigFields(node, allowed: CodingKeys.allCases.map(\.rawValue))
        try f.checkModelType(.mediumTerm)
        sequenceLength = try f.int("sequence_length", default: sequenceLength, atLeast: 1)
        inputFeatures = try f.int("input_features", default: inputFeatures, atLeast: 1)
        dModel = try f.int("d_model", default: dModel, atLeast: 1)
        attentionHeads = try f.int("attention_heads", default: attentionHeads, atLeast: 1)
        layerNormEps = try f.positive("layer_norm_eps", default: layerNormEps)
        try validate(location: node.location)
    }

    /// Head size d / heads.
    public var headSize: Int { dModel / attentionHeads }

    public func validate(location: String) throws(ModelError) {
        try requireConfig(modelType == .mediumTerm, location, "model_type", "expected medium_term, got \(modelType.rawValue)")
        for (name, v, range) in [("sequence_length", sequenceLength, 1...ModelLimits.sequence),
                                 ("input_features", inputFeatures, 1...ModelLimits.width), ("d_model", dModel, 1...ModelLimits.width),
                                 ("attention_heads", attentionHeads, 1...ModelLimits.depth)] {
            try requireRange(v, range, location, name)
        }
        try requireConfig(layerNormEps > 0 && layerNormEps.isFinite, location, "layer_norm_eps", "must be positive, got \(layerNormEps)")
        try requireConfig(dModel % attentionHeads == 0, location, "attention_heads",
                          "d_model \(dModel) is not divisible by \(attentionHeads) heads")
    }
}
