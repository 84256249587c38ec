/// The three horizon models, by the names configs, checkpoints and commands use.
///
///     ModelType(rawValue: "short_term")   // .shortTerm
///     ModelType.longTerm.rawValue          // "long_term"
public enum ModelType: String, CaseIterable, Sendable, Codable {
    /// CNN -> BiLSTM -> multi-head attention (hours).
    case shortTerm = "short_term"
    /// Simplified Temporal Fusion Transformer (days).
    case mediumTerm = "medium_term"
    /// N-BEATS + Transformer encoder (weeks), with a forecast and an optional regime head.
    case longTerm = "long_term"

    /// Whether the model takes the separate normalised `close` series (B, L) besides the features.
    public var needsClose: Bool { self == .longTerm }
}
