import Foundation

extension TrainingConfig {
    /// The configuration as a training YAML file that `TrainingConfig.load` (and `aitrader train --config`) reads
    /// back to an equal configuration: every key written, nulls for the unset optional ones, text double-quoted.
    ///
    ///     try config.yaml.write(toFile: "best.yaml", atomically: true, encoding: .utf8)
    ///     #expect(try TrainingConfig.load(path: "best.yaml") == config)
    public var yaml: String {
        func q(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func n(_ v: Double) -> String { "\(v)" }
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        var lines = [
            "model: {type: \(modelType.rawValue), config: \(q(modelConfigPath))}",
            "profile: \(q(profile))",
            "profiles: \(q(profilesPath))",
            "timeframe: \(timeframe.map(q) ?? "null")",
            "features: \(q(featuresPath))",
            "symbols: [\(symbols.map(q).joined(separator: ", "))]",
        ]
        if let label { lines.append("label: {horizon: \(label.horizon), dead_zone: \(n(label.deadZone))}") }
        lines += [
            "splits: {train: \(n(trainFraction)), validation: \(n(validationFraction)), test: \(n(testFraction)), embargo: \(opt(embargo))}",
            "scaling: {method: \(scaling.rawValue), clip: \(n(clip))}",
            "training:",
            "  batch_size: \(batchSize)",
            "  epochs: \(epochs)",
            "  learning_rate: \(n(learningRate))",
            "  weight_decay: \(n(weightDecay))",
            "  gradient_clip: \(n(gradientClip))",
            "  patience: \(patience)",
            "  min_delta: \(n(minDelta))",
            "  max_batches_per_epoch: \(opt(maxBatchesPerEpoch))",
            "  log_every_steps: \(opt(logEverySteps))",
            "checkpoints: {dir: \(q(checkpointDirectory)), save_top_k: \(saveTopK)}",
            "calibration: \(calibration?.rawValue ?? "null")",
            "loss: \(loss?.yaml ?? "null")",
            "seed: \(seed)",
            "device: \(device)",
            "threads: \(opt(threads))",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
