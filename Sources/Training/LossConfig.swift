import Common
import Foundation
import Models

/// The training config's `loss`: what the direction term of `TradingLoss` fits (the calibration, forecast and regime
/// terms are the same for all three).
///
/// - `beta_nll` (default): BetaNLL of the up/down label squashed to {0.05, 0.95}. A Beta density fitted to two
///   values only: it rewards ever larger alpha + beta on the side it calls, so concentration is not a calibrated
///   uncertainty.
/// - `evidential`: Sensoy et al. (2018): the Beta-Bernoulli marginal NLL of the label (the log loss of
///   p = alpha / (alpha + beta)) plus λ_t × KL(Beta(α̃, β̃) ‖ Beta(1, 1)) of the misleading evidence, annealed as in
///   the paper: λ_t = min(1, epoch / `annealing_epochs`) × `evidence_regularizer` (epoch 0-based: the first epoch has
///   no regulariser). Validation always uses the full weight, so validation losses of different epochs compare.
/// - `beta_nll_rank`: BetaNLL of a continuous target, the empirical-CDF rank of the sample's forward log return
///   among the TRAINING split's forward returns (mid-rank for ties: (#less + #less-or-equal) / 2N, in [0, 1]),
///   squashed to [0.05, 0.95] like the labels — a target with a density, where a Beta fit is well-posed. The raw
///   p = alpha / (alpha + beta) is then the predicted mean rank, not P(up); the checkpoint's calibration (fitted on
///   the validation split against the up/down labels) maps it to P(up), so read `model_calibrated` in evaluations.
///
/// YAML: `loss: evidential` or a mapping:
///
///     loss:
///       type: evidential            # beta_nll | evidential | beta_nll_rank
///       evidence_regularizer: 1.0   # evidential only: the KL weight reached after annealing
///       annealing_epochs: 10        # evidential only: epochs to reach it (λ_t = min(1, epoch / 10) × weight)
public struct LossConfig: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case betaNLL = "beta_nll"
        case evidential
        case betaNLLRank = "beta_nll_rank"
    }

    public var kind: Kind
    public var evidenceRegularizer: Double
    public var annealingEpochs: Int

    public init(kind: Kind, evidenceRegularizer: Double = 1, annealingEpochs: Int = 10) {
        self.kind = kind
        self.evidenceRegularizer = evidenceRegularizer
        self.annealingEpochs = annealingEpochs
    }

    /// The direction objective `TradingLoss` computes.
    public var objective: TradingLoss.DirectionObjective { kind == .evidential ? .evidential : .betaNLL }

    /// λ of `epoch` (0-based) while training: min(1, epoch / annealing_epochs) × evidence_regularizer (0 unless
    /// evidential).
    public func evidenceRegularizer(epoch: Int) -> Float {
        guard kind == .evidential else { return 0 }
        let ramp = annealingEpochs == 0 ? 1 : min(1, Double(epoch) / Double(annealingEpochs))
        return Float(ramp * evidenceRegularizer)
    }

    /// The full λ (validation).
    public var validationRegularizer: Float { kind == .evidential ? Float(evidenceRegularizer) : 0 }

    static let keys = ["type", "evidence_regularizer", "annealing_epochs"]

    /// `loss: <type>` or `loss: {type: ..., evidence_regularizer: ..., annealing_epochs: ...}`; errors name file:line
    /// and the key.
    init(yaml node: YAMLNode) throws(TrainingError) {
        let typeNode: YAMLNode
        var reader: TrainingConfig.Reader?
        if case .mapping = node.value {
            let r = TrainingConfig.Reader(node)
            try r.keys(Self.keys)
            typeNode = try r.require("type")
            reader = r
        } else {
            typeNode = node
        }
        let text = try TrainingConfig.Reader(typeNode).string()
        guard let kind = Kind(rawValue: text) else {
            throw .config(location: typeNode.location, key: reader == nil ? "loss" : "loss.type",
                          message: "unknown loss '\(text)' (expected \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(kind: kind)
        guard let r = reader else { return }
        for key in ["evidence_regularizer", "annealing_epochs"] where kind != .evidential {
            if let n = node[key] {
                throw .config(location: n.location, key: "loss.\(key)", message: "applies to loss evidential only (this is \(text))")
            }
        }
        evidenceRegularizer = try r.double("evidence_regularizer", default: evidenceRegularizer, atLeast: 0)
        annealingEpochs = try r.int("annealing_epochs", default: annealingEpochs, atLeast: 0)
    }

    /// The YAML form `init(yaml:)` reads back.
    var yaml: String {
        kind == .evidential
            ? "{type: evidential, evidence_regularizer: \(evidenceRegularizer), annealing_epochs: \(annealingEpochs)}"
            : kind.rawValue
    }
}
