import Common
import Foundation

/// What `aitrader train` records of a run: params = the training configuration flattened (`training.epochs`-style
/// keys from its JSON form), tags = model type, symbol, timeframe, profile, code version, per-epoch metrics
/// (`train_loss`, `val_loss`, `val_accuracy`, `samples_per_s`, `lr`, step = the 1-based epoch) and the gradient norms
/// every `log_every_steps` optimizer steps (`grad_norm/global`, `grad_norm/<layer group>`, step = the optimizer step).
///
///     TrainingTracking.metrics(report).map(\.key)   // ["train_loss", "val_loss", "val_accuracy", "samples_per_s", "lr"]
public enum TrainingTracking {
    /// The experiment a model's runs go to by default.
    public static func experiment(_ model: ModelType) -> String { "train-\(model.rawValue)" }

    public static func params(_ config: TrainingConfig) -> [String: String] {
        guard let value = try? JSONDecoder().decode(FlatJSON.self, from: Data(TrainingPlan.json(config).utf8)) else { return [:] }
        var out: [String: String] = [:]
        value.flatten(prefix: "", into: &out)
        return out
    }

    public static func tags(_ plan: TrainingPlan, device: String) -> [String: String] {
        [
            "model_type": plan.config.modelType.rawValue,
            "symbol": plan.symbol,
            "timeframe": plan.timeframe.rawValue,
            "profile": plan.config.profile,
            "code_version": AITraderVersion.string,
            "device": device,
            "feature_config_hash": plan.provenance["feature_config_hash"] ?? "",
        ]
    }

    /// `grad_norm/global` and `grad_norm/<group>` at the optimizer step (not the epoch).
    public static func metrics(_ report: GradientNormReport, timestamp: Int64 = TrackedMetric.now()) -> [TrackedMetric] {
        [TrackedMetric(key: "grad_norm/global", value: report.global, step: report.step, timestamp: timestamp)]
            + report.groups.map { TrackedMetric(key: "grad_norm/\($0.name)", value: $0.norm, step: report.step, timestamp: timestamp) }
    }

    public static func metrics(_ report: EpochReport, timestamp: Int64 = TrackedMetric.now()) -> [TrackedMetric] {
        let step = report.epoch + 1
        return [
            TrackedMetric(key: "train_loss", value: report.trainLoss, step: step, timestamp: timestamp),
            TrackedMetric(key: "val_loss", value: report.validationLoss, step: step, timestamp: timestamp),
            TrackedMetric(key: "val_accuracy", value: report.validationAccuracy, step: step, timestamp: timestamp),
            TrackedMetric(key: "samples_per_s", value: report.samplesPerSecond, step: step, timestamp: timestamp),
            TrackedMetric(key: "lr", value: report.learningRate, step: step, timestamp: timestamp),
        ]
    }
}

/// A JSON value read for flattening: `{"a": {"b": 1}, "c": [1, 2]}` → `a.b = 1`, `c = [1,2]` (arrays stay JSON,
/// nulls are "null", whole numbers print without a fraction).
private enum FlatJSON: Decodable {
    case object([String: FlatJSON]), array([FlatJSON]), text(String), bool(Bool), integer(Int64), number(Double), null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .integer(v) }
        else if let v = try? c.decode(Double.self) { self = .number(v) }
        else if let v = try? c.decode(String.self) { self = .text(v) }
        else if let v = try? c.decode([FlatJSON].self) { self = .array(v) }
        else { self = .object(try c.decode([String: FlatJSON].self)) }
    }

    var json: String {
        switch self {
        case .object(let o): "{" + o.keys.sorted().map { JSONText.quote($0) + ":" + o[$0]!.json }.joined(separator: ",") + "}"
        case .array(let a): "[" + a.map(\.json).joined(separator: ",") + "]"
        case .text(let s): JSONText.quote(s)
        default: scalar
        }
    }

    var scalar: String {
        switch self {
        case .text(let s): s
        case .bool(let b): b ? "true" : "false"
        case .integer(let i): String(i)
        case .number(let d): "\(d)"
        case .null: "null"
        case .object, .array: json
        }
    }

    func flatten(prefix: String, into out: inout [String: String]) {
        if case .object(let o) = self {
            for (k, v) in o { v.flatten(prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        } else {
            out[prefix] = scalar
        }
    }
}
