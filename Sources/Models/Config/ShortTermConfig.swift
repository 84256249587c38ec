import Common

/// Sizes of the short_term model (CNN -> BiLSTM -> multi-head attention -> Beta head). The defaults are those
/// of shared/design/models.md and configs/models/short_term.yaml.
///
///     var config = ShortTermConfig()          // design defaults, F = 32
///     config.inputFeatures = 41               // the feature set's width
///     let small = try ShortTermConfig(yaml: YAMLNode.parse("lstm_hidden: 64"))
public struct ShortTermConfig: Codable, Equatable, Sendable {
    public var modelType: ModelType = .shortTerm
    /// L, bars per window.
    public var sequenceLength = 64
    /// F, features per bar.
    public var inputFeatures = 32
    public var convChannels = [64, 128, 256]
    public var convKernels = [3, 5, 7]
    public var convDropout: Float = 0.1
    /// Hidden units per direction; the BiLSTM's output has twice as many.
    public var lstmHidden = 256
    public var lstmLayers = 2
    public var lstmDropout: Float = 0.3
    public var attentionDim = 256
    public var attentionHeads = 8
    public var fcHidden = 128
    public var fcDropout: Float = 0.1
    public var layerNormEps: Float = 1e-5

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelType = "model_type", sequenceLength = "sequence_length", inputFeatures = "input_features"
        case convChannels = "conv_channels", convKernels = "conv_kernels", convDropout = "conv_dropout"
        case lstmHidden = "lstm_hidden", lstmLayers = "lstm_layers", lstmDropout = "lstm_dropout"
        case attentionDim = "attention_dim", attentionHeads = "attention_heads", fcHidden = "fc_hidden"
        case fcDropout = "fc_dropout", layerNormEps = "layer_norm_eps"
    }

    /// The design defaults.
    public init() {}

    /// Reads a YAML mapping (a configs/models/short_term.yaml file); absent keys keep the design defaults.
    public init(yaml node: YAMLNode) throws(ModelError) {
        let f = try ConfigFields(node, allowed: CodingKeys.allCases.map(\.rawValue))
        try f.checkModelType(.shortTerm)
        sequenceLength = try f.int("sequence_length", default: sequenceLength, atLeast: 1)
        inputFeatures = try f.int("input_features", default: inputFeatures, atLeast: 1)
        convChannels = try f.ints("conv_channels", default: convChannels, atLeast: 1)
        convKernels = try f.ints("conv_kernels", default: convKernels, atLeast: 1)
        convDropout = try f.probability("conv_dropout", default: convDropout)
        lstmHidden = try f.int("lstm_hidden", default: lstmHidden, atLeast: 1)
        lstmLayers = try f.int("lstm_layers", default: lstmLayers, atLeast: 1)
        lstmDropout = try f.probability("lstm_dropout", default: lstmDropout)
        attentionDim = try f.int("attention_dim", default: attentionDim, atLeast: 1)
        attentionHeads = try f.int("attention_heads", default: attentionHeads, atLeast: 1)
        fcHidden = try f.int("fc_hidden", default: fcHidden, atLeast: 1)
        fcDropout = try f.probability("fc_dropout", default: fcDropout)
        layerNormEps = try f.positive("layer_norm_eps", default: layerNormEps)
        try validate(location: node.location)
    }

    /// Cross-field checks (also run on configs read from checkpoints).
    public func validate(location: String) throws(ModelError) {
        try requireConfig(modelType == .shortTerm, location, "model_type", "expected short_term, got \(modelType.rawValue)")
        // Ranges first: the checks below divide by and multiply these.
        for (name, v, range) in [("sequence_length", sequenceLength, 1...ModelLimits.sequence),
                                 ("input_features", inputFeatures, 1...ModelLimits.width),
                                 ("lstm_hidden", lstmHidden, 1...ModelLimits.width), ("lstm_layers", lstmLayers, 1...ModelLimits.depth),
                                 ("attention_dim", attentionDim, 1...ModelLimits.width),
                                 ("attention_heads", attentionHeads, 1...ModelLimits.depth), ("fc_hidden", fcHidden, 1...ModelLimits.width)] {
            try requireRange(v, range, location, name)
        }
        try requireConfig(convChannels.count <= ModelLimits.depth, location, "conv_channels",
                          "at most \(ModelLimits.depth) convolutions, got \(convChannels.count)")
        for c in convChannels { try requireRange(c, 1...ModelLimits.width, location, "conv_channels") }
        for k in convKernels { try requireRange(k, 1...ModelLimits.kernel, location, "conv_kernels") }
        try requireConfig(layerNormEps > 0 && layerNormEps.isFinite, location, "layer_norm_eps", "must be positive, got \(layerNormEps)")
        try requireConfig(!convChannels.isEmpty, location, "conv_channels", "at least one convolution is required")
        try requireConfig(convKernels.count == convChannels.count, location, "conv_kernels",
                          "\(convKernels.count) kernel sizes for \(convChannels.count) convolutions")
        try requireConfig(convKernels.allSatisfy { $0 % 2 == 1 }, location, "conv_kernels", "kernel sizes must be odd ('same' padding), got \(convKernels)")
        try requireConfig(attentionDim % attentionHeads == 0, location, "attention_heads",
                          "attention_dim \(attentionDim) is not divisible by \(attentionHeads) heads")
        for (name, v) in [("sequence_length", sequenceLength), ("input_features", inputFeatures), ("lstm_hidden", lstmHidden),
                          ("lstm_layers", lstmLayers), ("attention_dim", attentionDim), ("fc_hidden", fcHidden)] {
            try requireConfig(v >= 1, location, name, "must be at least 1, got \(v)")
        }
        for (name, p) in [("conv_dropout", convDropout), ("lstm_dropout", lstmDropout), ("fc_dropout", fcDropout)] {
            try requireConfig(p >= 0 && p < 1, location, name, "a dropout rate must be in [0, 1), got \(p)")
        }
    }
}
