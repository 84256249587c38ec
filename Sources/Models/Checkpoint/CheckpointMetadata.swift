import Foundation

/// How the features were scaled before training (what a loader must apply at inference): the kind (e.g.
/// "standard": (x - mean) / scale) and one mean and scale per feature.
///
///     FeatureScaling(kind: "standard", mean: [0.1, 3.2], scale: [1.5, 0.7])
public struct FeatureScaling: Codable, Equatable, Sendable {
    public var kind: String
    public var mean: [Double]
    public var scale: [Double]

    public init(kind: String, mean: [Double], scale: [Double]) {
        self.kind = kind
        self.mean = mean
        self.scale = scale
    }
}

/// What a checkpoint records besides weights and config: the feature names in column order, the scaler, the
/// training run id, and any other metadata keys (kept unchanged through load and save).
///
///     let meta = CheckpointMetadata(featureNames: names, scaling: scaler, runID: "2026-11-26T12:00Z-short")
public struct CheckpointMetadata: Equatable, Sendable {
    public var featureNames: [String]
    public var scaling: FeatureScaling?
    public var runID: String
    /// Other `__metadata__` entries (e.g. `created_by`), written back as they are.
    public var extra: [String: String]

    public init(featureNames: [String] = [], scaling: FeatureScaling? = nil, runID: String = "", extra: [String: String] = [:]) {
        self.featureNames = featureNames
        self.scaling = scaling
        self.runID = runID
        self.extra = extra
    }

    /// The metadata keys this struct owns; every other key goes to `extra`.
    static let ownedKeys: Set<String> = ["format", "format_version", "model_type", "config", "feature_names", "scaler", "run_id"]
}
