import Common

/// The training-config keys a search space may vary, and how a trial's value is applied to a `TrainingConfig`.
///
///     var config = base
///     try TrialOverrides.apply("training.learning_rate", "0.003", to: &config)
public enum TrialOverrides {
    public static let keys = [
        "training.learning_rate", "training.weight_decay", "training.batch_size", "training.gradient_clip",
        "training.epochs", "training.patience", "training.min_delta", "scaling.clip", "scaling.method",
    ]

    /// Sets `key` to `text` (a float, an int or a categorical choice as written in the search space).
    public static func apply(_ key: String, _ text: String, to config: inout TrainingConfig) throws(TrainingError) {
        func bad(_ expected: String) -> TrainingError {
            .config(location: "search space", key: "parameters.\(key)", message: "\(expected), got '\(text)'")
        }
        func positive() throws(TrainingError) -> Double {
            guard let v = Double(text), v.isFinite, v > 0 else { throw bad("expected a number > 0") }
            return v
        }
        func nonNegative() throws(TrainingError) -> Double {
            guard let v = Double(text), v.isFinite, v >= 0 else { throw bad("expected a number >= 0") }
            return v
        }
        func count() throws(TrainingError) -> Int {
            guard let v = Int(text), v >= 1 else { throw bad("expected a whole number >= 1") }
            return v
        }
        switch key {
        case "training.learning_rate": config.learningRate = try positive()
        case "training.weight_decay": config.weightDecay = try nonNegative()
        case "training.batch_size": config.batchSize = try count()
        case "training.gradient_clip": config.gradientClip = try positive()
        case "training.epochs": config.epochs = try count()
        case "training.patience": config.patience = try count()
        case "training.min_delta": config.minDelta = try nonNegative()
        case "scaling.clip": config.clip = try positive()
        case "scaling.method":
            guard let m = FeatureScaler.Method(rawValue: text) else { throw bad("expected zscore or robust") }
            config.scaling = m
        default:
            throw .config(location: "search space", key: "parameters.\(key)",
                          message: "cannot be tuned (tunable: \(keys.joined(separator: ", ")))")
        }
    }
}
