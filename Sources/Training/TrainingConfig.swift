import Common
import Foundation
import MarketData
import Models

/// One training run's configuration, from `configs/training/<model>.yaml` (every key but `model.type` has a
/// default; unknown keys, wrong types and impossible values are errors naming file:line and the key):
///
///     model:
///       type: short_term
///       config: configs/models/short_term.yaml   # network sizes; input_features comes from the feature set
///     profile: trader                            # configs/features/profiles.yaml: which timeframe
///     timeframe: null                            # overrides the profile's timeframe (e.g. 1d for daily-only data)
///     features: configs/features/short_term.yaml # the feature set (names and order the checkpoint records)
///     symbols: [EURUSD]
///     label: {horizon: 4, dead_zone: 0.0}        # direction label; default: the feature set's label
///     splits: {train: 0.7, validation: 0.15, test: 0.15, embargo: 4}
///     scaling: {method: zscore, clip: 10}
///     training: {batch_size: 64, epochs: 100, learning_rate: 1.0e-4, weight_decay: 1.0e-5, gradient_clip: 1.0,
///                patience: 15, min_delta: 1.0e-4, max_batches_per_epoch: null, log_every_steps: 50}
///     loss: beta_nll                             # beta_nll, evidential or beta_nll_rank (LossConfig)
///     checkpoints: {dir: checkpoints/short_term, save_top_k: 3}
///     calibration: platt                         # platt, temperature, isotonic or none (CalibrationMethod)
///     seed: 42
///     device: auto
///     threads: null
///
///     var config = try TrainingConfig.load(path: "configs/training/short_term.yaml")
///     config.epochs = 2          // command-line overrides
public struct TrainingConfig: Sendable, Equatable, Codable {
    public var modelType: ModelType
    public var modelConfigPath: String
    public var profile: String
    public var profilesPath: String
    public var timeframe: String?
    public var featuresPath: String
    public var symbols: [String]
    /// nil: the feature set's label.
    public var label: LabelConfig?
    public var trainFraction: Double = 0.7
    public var validationFraction: Double = 0.15
    public var testFraction: Double = 0.15
    /// Bars dropped after each split boundary; nil: the label horizon. Purging (dropping samples whose label
    /// window reaches the next split's first window) is always on.
    public var embargo: Int?
    public var scaling: FeatureScaler.Method = .zScore
    public var clip: Double = 10
    public var batchSize = 64
    public var epochs = 100
    public var learningRate = 1e-4
    public var weightDecay = 1e-5
    public var gradientClip = 1.0
    public var patience = 15
    public var minDelta = 1e-4
    /// Caps the batches of each epoch (training and validation alike); nil: all.
    public var maxBatchesPerEpoch: Int?
    /// Every how many optimizer steps the gradient norms (global and per layer group) go to the tracker; nil: 50.
    /// Not part of the recorded configuration (it never changes the weights).
    public var logEverySteps: Int?
    /// The direction objective; nil: `beta_nll` (left out of the recorded config then, so runs from before the key
    /// resume and evaluate unchanged).
    public var loss: LossConfig?
    public var checkpointDirectory: String
    public var saveTopK = 3
    /// The post-hoc calibration of p(up) fitted on the validation split and stored in every checkpoint; nil: the
    /// default, `platt` (see `CalibrationMethod` for why). Left out of the recorded config when nil, so runs from
    /// before the key resume and evaluate unchanged.
    public var calibration: CalibrationMethod?
    public var seed: UInt64 = 42
    public var device = "auto"
    public var threads: Int?
    /// Set by `aitrader train --walk-forward K` for each fold's run (never read from YAML): the run trains on fold
    /// `fold` of `folds` (`ChronologicalSplit.walkForwardFold`) instead of the fractions' single split. Recorded in
    /// every checkpoint's `training_config`, so `aitrader evaluate` re-derives the fold's splits.
    public var walkForward: WalkForwardFold?

    /// Fold `fold` (0-based) of `folds` walk-forward folds, e.g. `WalkForwardFold(fold: 1, folds: 3)`.
    public struct WalkForwardFold: Sendable, Equatable, Codable {
        public var fold: Int
        public var folds: Int
        public init(fold: Int, folds: Int) {
            self.fold = fold
            self.folds = folds
        }
    }

    /// The loss a run trains with: `loss`, else `beta_nll`.
    public var lossConfig: LossConfig { loss ?? LossConfig(kind: .betaNLL) }
    /// Gradient-norm logging interval: `logEverySteps`, else 50.
    public var gradientLogInterval: Int { logEverySteps ?? 50 }

    /// The calibration method a run fits: `calibration`, else `platt`.
    public var calibrationMethod: CalibrationMethod { calibration ?? .platt }

    /// The direction label: 1 when ln(c[t+H]/c[t]) > dead_zone, 0 when < −dead_zone, left out in between.
    public struct LabelConfig: Sendable, Equatable, Codable {
        public var horizon: Int
        public var deadZone: Double
        public init(horizon: Int, deadZone: Double) {
            self.horizon = horizon
            self.deadZone = deadZone
        }
    }

    /// The defaults for `type`: its configs under `configs/`, checkpoints under `checkpoints/<type>`.
    public init(modelType: ModelType, configRoot: String = "configs") {
        self.modelType = modelType
        modelConfigPath = "\(configRoot)/models/\(modelType.rawValue).yaml"
        profile = "trader"
        profilesPath = "\(configRoot)/features/profiles.yaml"
        featuresPath = "\(configRoot)/features/\(modelType.rawValue).yaml"
        symbols = ["EURUSD"]
        checkpointDirectory = "checkpoints/\(modelType.rawValue)"
    }

    public static func load(path: String) throws(TrainingError) -> TrainingConfig {
        let node: YAMLNode
        do { node = try YAMLNode.load(path: path) } catch { throw TrainingError(error) }
        return try TrainingConfig(yaml: node)
    }

    static let sections: [String: [String]] = [
        "model": ["type", "config"],
        "label": ["horizon", "dead_zone"],
        "splits": ["train", "validation", "test", "embargo"],
        "scaling": ["method", "clip"],
        "training": ["batch_size", "epochs", "learning_rate", "weight_decay", "gradient_clip", "patience", "min_delta",
                     "max_batches_per_epoch", "log_every_steps"],
        "checkpoints": ["dir", "save_top_k"],
    ]
    static let topKeys = ["model", "profile", "profiles", "timeframe", "features", "symbols", "label", "splits", "scaling",
                          "training", "checkpoints", "calibration", "loss", "seed", "device", "threads"]

    public init(yaml root: YAMLNode) throws(TrainingError) {
        let r = Reader(root)
        try r.keys(Self.topKeys)
        let model = try r.section("model", Self.sections["model"]!)
        let typeNode = try model.require("type")
        let typeName = try Reader(typeNode).string()
        guard let type = ModelType(rawValue: typeName) else {
            throw .config(location: typeNode.location, key: "model.type",
                          message: "unknown model '\(typeName)' (expected short_term, medium_term or long_term)")
        }
        self.init(modelType: type)
        modelConfigPath = try model.string("config") ?? modelConfigPath
        profile = try r.string("profile") ?? profile
        profilesPath = try r.string("profiles") ?? profilesPath
        timeframe = try r.string("timeframe")
        if let text = timeframe, let node = root["timeframe"] {
            do { _ = try Timeframe(parsing: text) } catch { throw .config(location: node.location, key: "timeframe", message: "\(error)") }
        }
        featuresPath = try r.string("features") ?? featuresPath
        if let node = root["symbols"] {
            let items: [YAMLNode]
            do { items = try node.sequence() } catch { throw TrainingError(error) }
            symbols = try items.map { n throws(TrainingError) in try Reader(n).string() }
            guard !symbols.isEmpty else { throw .config(location: node.location, key: "symbols", message: "list at least one symbol") }
            guard symbols.count == 1 else {
                throw .config(location: node.location, key: "symbols",
                              message: "training on several symbols at once is not supported yet; list one (got \(symbols.count))")
            }
        }
        if let label = try r.optionalSection("label", Self.sections["label"]!) {
            let horizon = try label.int("horizon", default: 1, atLeast: 1)
            let deadZone = try label.double("dead_zone", default: 0, atLeast: 0)
            self.label = LabelConfig(horizon: horizon, deadZone: deadZone)
        }
        if let splits = try r.optionalSection("splits", Self.sections["splits"]!) {
            trainFraction = try splits.double("train", default: trainFraction, atLeast: 0)
            validationFraction = try splits.double("validation", default: validationFraction, atLeast: 0)
            testFraction = try splits.double("test", default: 1 - trainFraction - validationFraction, atLeast: 0)
            embargo = try splits.optionalInt("embargo", atLeast: 0)
            guard trainFraction > 0, validationFraction > 0 else {
                throw .config(location: splits.node.location, key: "splits",
                              message: "train and validation must both be > 0 (got \(trainFraction), \(validationFraction))")
            }
            let sum = trainFraction + validationFraction + testFraction
            guard abs(sum - 1) <= 1e-9 else {
                throw .config(location: splits.node.location, key: "splits",
                              message: "train + validation + test must be 1, got \(sum)")
            }
        }
        if let scaling = try r.optionalSection("scaling", Self.sections["scaling"]!) {
            if let methodNode = scaling.node["method"] {
                let text = try Reader(methodNode).string()
                guard let method = FeatureScaler.Method(rawValue: text) else {
                    throw .config(location: methodNode.location, key: "scaling.method", message: "expected zscore or robust, got '\(text)'")
                }
                self.scaling = method
            }
            clip = try scaling.double("clip", default: clip, atLeast: .leastNonzeroMagnitude)
        }
        if let t = try r.optionalSection("training", Self.sections["training"]!) {
            batchSize = try t.int("batch_size", default: batchSize, atLeast: 1)
            epochs = try t.int("epochs", default: epochs, atLeast: 1)
            learningRate = try t.double("learning_rate", default: learningRate, atLeast: .leastNonzeroMagnitude)
            weightDecay = try t.double("weight_decay", default: weightDecay, atLeast: 0)
            gradientClip = try t.double("gradient_clip", default: gradientClip, atLeast: .leastNonzeroMagnitude)
            patience = try t.int("patience", default: patience, atLeast: 1)
            minDelta = try t.double("min_delta", default: minDelta, atLeast: 0)
            maxBatchesPerEpoch = try t.optionalInt("max_batches_per_epoch", atLeast: 1)
            logEverySteps = try t.optionalInt("log_every_steps", atLeast: 1)
        }
        if let c = try r.optionalSection("checkpoints", Self.sections["checkpoints"]!) {
            checkpointDirectory = try c.string("dir") ?? checkpointDirectory
            saveTopK = try c.int("save_top_k", default: saveTopK, atLeast: 0)
        }
        if let node = root["calibration"], let text = try r.string("calibration") {
            guard let method = CalibrationMethod(rawValue: text) else {
                throw .config(location: node.location, key: "calibration",
                              message: "expected \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            calibration = method
        }
        if let node = root["loss"], !node.isNull { loss = try LossConfig(yaml: node) }
        seed = UInt64(try r.int("seed", default: Int(seed), atLeast: 0))
        if let node = root["device"] {
            device = try Reader(node).string()
            guard ["auto", "cpu", "cuda"].contains(device) else {
                throw .config(location: node.location, key: "device", message: "expected auto, cpu or cuda, got '\(device)'")
            }
        }
        threads = try r.optionalInt("threads", atLeast: 1)
    }

    /// Typed reads of one mapping, each error naming file:line and the key path.
    struct Reader {
        let node: YAMLNode
        init(_ node: YAMLNode) { self.node = node }

        func keys(_ allowed: [String]) throws(TrainingError) {
            do { _ = try node.mapping(); try node.checkKeys(allowed) } catch { throw TrainingError(error) }
        }

        func optionalSection(_ key: String, _ allowed: [String]) throws(TrainingError) -> Reader? {
            guard let n = node[key] else { return nil }
            let r = Reader(n)
            try r.keys(allowed)
            return r
        }

        func section(_ key: String, _ allowed: [String]) throws(TrainingError) -> Reader {
            let n: YAMLNode
            do { n = try node.require(key) } catch { throw TrainingError(error) }
            let r = Reader(n)
            try r.keys(allowed)
            return r
        }

        func require(_ key: String) throws(TrainingError) -> YAMLNode {
            do { return try node.require(key) } catch { throw TrainingError(error) }
        }

        func string() throws(TrainingError) -> String {
            do { return try node.string() } catch { throw TrainingError(error) }
        }

        func string(_ key: String) throws(TrainingError) -> String? {
            guard let n = node[key] else { return nil }
            let s = try Reader(n).string()
            guard !s.isEmpty else { throw .config(location: n.location, key: n.path, message: "must not be empty") }
            return s
        }

        func int(_ key: String, default fallback: Int, atLeast minimum: Int) throws(TrainingError) -> Int {
            try optionalInt(key, atLeast: minimum) ?? fallback
        }

        func optionalInt(_ key: String, atLeast minimum: Int) throws(TrainingError) -> Int? {
            guard let n = node[key] else { return nil }
            let v: Int
            do { v = try n.int() } catch { throw TrainingError(error) }
            guard v >= minimum else { throw .config(location: n.location, key: n.path, message: "must be at least \(minimum), got \(v)") }
            return v
        }

        func double(_ key: String, default fallback: Double, atLeast minimum: Double) throws(TrainingError) -> Double {
            guard let n = node[key] else { return fallback }
            let v: Double
            do { v = try n.double() } catch { throw TrainingError(error) }
            guard v.isFinite else { throw .config(location: n.location, key: n.path, message: "must be finite, got \(v)") }
            guard v >= minimum else {
                throw .config(location: n.location, key: n.path,
                              message: minimum > 0 && minimum < 1e-300 ? "must be positive, got \(v)" : "must be at least \(minimum), got \(v)")
            }
            return v
        }
    }
}
