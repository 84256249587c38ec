import Common

/// Sizes of the long_term model (N-BEATS trend + seasonality stacks on the close series, Transformer encoder on
/// the features, fusion, Beta head, optional Dirichlet regime head). Defaults from shared/design/models.md and
/// configs/models/long_term.yaml.
///
///     let config = LongTermConfig()
///     config.harmonics          // 3 = floor(8 / 2 - 1)
///     config.seasonalityThetaSize   // 8: cos and sin for i = 0...3
public struct LongTermConfig: Codable, Equatable, Sendable {
    public var modelType: ModelType = .longTerm
    /// L, also the N-BEATS backcast length.
    public var sequenceLength = 128
    public var inputFeatures = 32
    /// H, forecast steps.
    public var forecastHorizon = 8
    public var trendBlocks = 3
    public var trendDegree = 3
    public var seasonalityBlocks = 3
    /// nil: floor(H / 2 - 1) as in the N-BEATS paper.
    public var seasonalityHarmonics: Int? = nil
    public var blockWidth = 256
    public var blockLayers = 4
    public var dModel = 128
    public var encoderLayers = 2
    public var attentionHeads = 4
    public var feedforward = 256
    public var dropout: Float = 0.1
    public var fusionHidden = 128
    public var regimeHead = true
    public var regimeClasses = 3
    public var layerNormEps: Float = 1e-5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelType = "model_type", sequenceLength = "sequence_length", inputFeatures = "input_features"
        case forecastHorizon = "forecast_horizon", trendBlocks = "trend_blocks", trendDegree = "trend_degree"
        case seasonalityBlocks = "seasonality_blocks", seasonalityHarmonics = "seasonality_harmonics"
        case blockWidth = "block_width", blockLayers = "block_layers", dModel = "d_model"
        case encoderLayers = "encoder_layers", attentionHeads = "attention_heads", feedforward
        case dropout, fusionHidden = "fusion_hidden", regimeHead = "regime_head", regimeClasses = "regime_classes"
        case layerNormEps = "layer_norm_eps"
    }

    public init() {}

    public init(yaml node: YAMLNode) throws(ModelError) {
        let f = try ConfigFields(node, allowed: CodingKeys.allCases.map(\.rawValue))
        try f.checkModelType(.longTerm)
        sequenceLength = try f.int("sequence_length", default: sequenceLength, atLeast: 1)
        inputFeatures = try f.int("input_features", default: inputFeatures, atLeast: 1)
        forecastHorizon = try f.int("forecast_horizon", default: forecastHorizon, atLeast: 1)
        trendBlocks = try f.int("trend_blocks", default: trendBlocks, atLeast: 0)
        trendDegree = try f.int("trend_degree", default: trendDegree, atLeast: 0)
        seasonalityBlocks = try f.int("seasonality_blocks", default: seasonalityBlocks, atLeast: 0)
        seasonalityHarmonics = try f.optionalInt("seasonality_harmonics", atLeast: 0)
        blockWidth = try f.int("block_width", default: blockWidth, atLeast: 1)
        blockLayers = try f.int("block_layers", default: blockLayers, atLeast: 1)
        dModel = try f.int("d_model", default: dModel, atLeast: 1)
        encoderLayers = try f.int("encoder_layers", default: encoderLayers, atLeast: 0)
        attentionHeads = try f.int("attention_heads", default: attentionHeads, atLeast: 1)
        feedforward = try f.int("feedforward", default: feedforward, atLeast: 1)
        dropout = try f.probability("dropout", default: dropout)
        fusionHidden = try f.int("fusion_hidden", default: fusionHidden, atLeast: 1)
        regimeHead = try f.bool("regime_head", default: regimeHead)
        regimeClasses = try f.int("regime_classes", default: regimeClasses, atLeast: 2)
        layerNormEps = try f.positive("layer_norm_eps", default: layerNormEps)
        try validate(location: node.location)
    }

    /// Highest seasonality harmonic i (the basis has cos and sin for i = 0...harmonics).
    public var harmonics: Int { seasonalityHarmonics ?? max(0, Int((Double(forecastHorizon) / 2 - 1).rounded(.down))) }
    /// Polynomial coefficients of a trend block: degree + 1.
    public var trendThetaSize: Int { trendDegree + 1 }
    /// Fourier coefficients of a seasonality block: 2 (harmonics + 1).
    public var seasonalityThetaSize: Int { 2 * (harmonics + 1) }

    public func validate(location: String) throws(ModelError) {
        try requireConfig(modelType == .longTerm, location, "model_type", "expected long_term, got \(modelType.rawValue)")
        // Ranges first: the checks below (and `harmonics`) divide by, add and multiply these.
        let w = 1...ModelLimits.width, depth = 0...ModelLimits.depth
        for (name, v, range) in [("sequence_length", sequenceLength, 1...ModelLimits.sequence), ("input_features", inputFeatures, w),
                                 ("forecast_horizon", forecastHorizon, 1...ModelLimits.sequence),
                                 ("trend_blocks", trendBlocks, depth), ("trend_degree", trendDegree, depth),
                                 ("seasonality_blocks", seasonalityBlocks, depth),
                                 ("seasonality_harmonics", seasonalityHarmonics ?? 0, 0...ModelLimits.sequence),
                                 ("block_width", blockWidth, w), ("block_layers", blockLayers, 1...ModelLimits.depth),
                                 ("d_model", dModel, w), ("encoder_layers", encoderLayers, depth),
                                 ("attention_heads", attentionHeads, 1...ModelLimits.depth), ("feedforward", feedforward, w),
                                 ("fusion_hidden", fusionHidden, w), ("regime_classes", regimeClasses, 2...ModelLimits.depth)] {
            try requireRange(v, range, location, name)
        }
        try requireConfig(layerNormEps > 0 && layerNormEps.isFinite, location, "layer_norm_eps", "must be positive, got \(layerNormEps)")
        try requireConfig(trendBlocks + seasonalityBlocks >= 1, location, "trend_blocks", "N-BEATS needs at least one block")
        // The bases are built on the host before any parameter is declared: bound their size here.
        try requireConfig(seasonalityThetaSize * (sequenceLength + forecastHorizon) <= 1 << 24, location, "seasonality_harmonics",
                          "a seasonality basis of \(seasonalityThetaSize) x \(sequenceLength + forecastHorizon) values is too large "
                              + "(at most 2^24)")
        try requireConfig(dModel % attentionHeads == 0, location, "attention_heads",
                          "d_model \(dModel) is not divisible by \(attentionHeads) heads")
        try requireConfig(dModel % 2 == 0, location, "d_model", "sinusoidal positions need an even d_model, got \(dModel)")
        for (name, v) in [("sequence_length", sequenceLength), ("input_features", inputFeatures),
                          ("forecast_horizon", forecastHorizon), ("block_width", blockWidth), ("block_layers", blockLayers),
                          ("d_model", dModel), ("feedforward", feedforward), ("fusion_hidden", fusionHidden)] {
            try requireConfig(v >= 1, location, name, "must be at least 1, got \(v)")
        }
        try requireConfig(dropout >= 0 && dropout < 1, location, "dropout", "a dropout rate must be in [0, 1), got \(dropout)")
        try requireConfig(regimeClasses >= 2, location, "regime_classes", "must be at least 2, got \(regimeClasses)")
    }
}
