/// The three horizon models, by the names configs, feature sets, checkpoints and commands use: the one horizon
/// kind every module shares (Features calls it `ModelKind`, a type alias of this type). How long a model's window
/// is lives in its model configuration (`sequence_length`), nowhere else.
///
///     ModelType(rawValue: "short_term")   // .shortTerm
///     ModelType.longTerm.rawValue          // "long_term"
public enum ModelType: String, CaseIterable, Sendable, Codable, Hashable, CustomStringConvertible {
    /// CNN -> BiLSTM -> multi-head attention (hours).
    case shortTerm = "short_term"
    /// Simplified Temporal Fusion Transformer (days).
    case mediumTerm = "medium_term"
    /// N-BEATS + Transformer encoder (weeks), with a forecast and an optional regime head.
    case longTerm = "long_term"

    public var description: String { rawValue }

    /// Whether the model takes the separate normalised `close` series (B, L) besides the features.
    public var needsClose: Bool { self == .longTerm }
}
