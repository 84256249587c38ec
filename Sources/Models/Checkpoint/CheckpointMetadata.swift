import Common
import Foundation

/// What a checkpoint records besides weights and config: the feature names in column order, the scaler exactly as
/// training applied it (`Common.FeatureScaler`: method, centers, scales, clip, and the same names), the training
/// run id, the post-hoc calibration of p(up) fitted on the validation split (`ProbabilityCalibration`; nil in
/// checkpoints written before calibration, which means the identity), and any other metadata keys (kept unchanged through load and save; training adds its label, profile,
/// timeframe, data range and code version there).
///
///     let meta = CheckpointMetadata(featureNames: names, scaler: scaler, runID: "short_term-3f9a")
public struct CheckpointMetadata: Equatable, Sendable {
    public var featureNames: [String]
    public var scaler: FeatureScaler?
    public var runID: String
    /// nil: no calibration recorded; p(up) is used as the network gives it.
    public var calibration: ProbabilityCalibration?
    /// Other `__metadata__` entries (e.g. `created_by`, `label`, `timeframe`), written back as they are.
    public var extra: [String: String]

    public init(featureNames: [String] = [], scaler: FeatureScaler? = nil, runID: String = "", calibration: ProbabilityCalibration? = nil,
                extra: [String: String] = [:]) {
        self.featureNames = featureNames
        self.scaler = scaler
        self.runID = runID
        self.calibration = calibration
        self.extra = extra
    }

    /// The calibration to apply to raw p(up): the recorded one, else the identity.
    public var calibrationOrIdentity: ProbabilityCalibration { calibration ?? .identity }

    /// The metadata keys this struct owns; every other key goes to `extra`.
    static let ownedKeys: Set<String> = ["format", "format_version", "model_type", "config", "feature_names", "scaler", "run_id", "calibration"]

    /// The scaler of checkpoints written before the scaler was shared with the feature loader:
    /// `{"kind": "standard", "mean": [...], "scale": [...]}` (z-score, no clipping).
    struct LegacyScaling: Decodable {
        var kind: String
        var mean: [Double]
        var scale: [Double]
    }
}
