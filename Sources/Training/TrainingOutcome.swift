import Foundation

/// How a `Trainer.run` ended: finished (last epoch or early stopping), or interrupted with `last` written.
///
///     if case .interrupted(let path, _, _) = outcome { print("resume with --resume \(path)") }
public enum TrainingOutcome: Sendable {
    case finished(TrainingSummary)
    case interrupted(checkpoint: String, epoch: Int, step: Int)
}

/// What a finished run left behind.
public struct TrainingSummary: Sendable, Equatable {
    public let directory: String
    public let last: String
    /// nil when no epoch was validated.
    public let best: String?
    public let bestValidationLoss: Double?
    /// 0-based.
    public let bestEpoch: Int?
    public let epochsRun: Int
    public let steps: Int
    public let stoppedEarly: Bool
    /// The top-k checkpoints, best first.
    public let topK: [String]
}

/// One epoch's numbers, reported after its validation.
///
///     report.line   // "epoch   3/100  train loss 0.6952  val loss 0.6931  val acc 51.3%  812 samples/s  lr 2.1e-05 *"
public struct EpochReport: Sendable, Equatable {
    /// 0-based.
    public let epoch: Int
    public let epochs: Int
    public let trainLoss: Double
    public let validationLoss: Double
    public let validationAccuracy: Double
    /// Training samples per second of this epoch's steps (this process's share when resumed mid-epoch).
    public let samplesPerSecond: Double
    /// The learning rate of the epoch's last step.
    public let learningRate: Double
    /// The validation loss improved on the best by more than min_delta.
    public let improved: Bool
    /// Checkpoint files written after this epoch besides `last`.
    public let saved: [String]
    public let stoppingEarly: Bool

    public var line: String {
        let width = String(epochs).count
        let e = String(repeating: " ", count: max(0, width - String(epoch + 1).count)) + String(epoch + 1)
        return "epoch \(e)/\(epochs)  train loss " + String(format: "%.4f", trainLoss)
            + "  val loss " + String(format: "%.4f", validationLoss)
            + "  val acc " + String(format: "%.1f%%", validationAccuracy * 100)
            + "  " + String(format: "%.0f", samplesPerSecond) + " samples/s"
            + "  lr " + String(format: "%.2e", learningRate)
            + (improved ? "  *" : "") + (stoppingEarly ? "  (early stop)" : "")
    }
}

/// The gradient norms of one optimizer step before clipping: the global norm (what clipping compares with
/// `gradient_clip`) and one per layer group (`Engine.ParameterLayout.groups`: `convs`, `lstm`, `attn`, `head`, …).
/// Reported every `log_every_steps` steps; the tracker records them as `grad_norm/global`, `grad_norm/<group>`.
public struct GradientNormReport: Sendable {
    /// 1-based optimizer step.
    public let step: Int
    /// 0-based.
    public let epoch: Int
    public let global: Double
    public let groups: [(name: String, norm: Double)]
}
