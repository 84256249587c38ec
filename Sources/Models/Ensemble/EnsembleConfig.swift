import Common
import Foundation

/// Every rule of the ensemble, read from `configs/ensemble.yaml` (errors name file:line:column and the key):
/// base weights, the regime's weights and how the regime is decided, the volatility rule, the per-model
/// performance adjustment, the disagreement penalty and the confidence threshold. The defaults below are the
/// plan's (trending 0.30 / 0.35 / 0.35, ranging 0.50 / 0.30 / 0.20 for short / medium / long).
///
///     let config = try EnsembleConfig.load(path: "configs/ensemble.yaml")
///     config.regime.weights(.trending)[.longTerm]   // 0.35
///     config.minConfidence                          // 0.05
public struct EnsembleConfig: Sendable, Equatable {
    /// Weights when the regime is unknown (ADX not computable); the regime's weights otherwise.
    public var baseWeights: [ModelType: Double] = [.shortTerm: 0.40, .mediumTerm: 0.35, .longTerm: 0.25]
    public var regime = Regime()
    public var volatility = Volatility()
    public var performance = Performance()
    /// λ: the combined confidence is multiplied by 1 − λ · 2 · (weight share against the majority direction).
    public var disagreementPenalty = 0.5
    /// τ: the combined confidence at or above which the ensemble takes a direction (0 below it).
    public var minConfidence = 0.05
    /// A model's weight is its base weight × max(confidence, floor): a model at p = 0.5 keeps a small say.
    public var confidenceFloor = 0.05
    /// Predictions from bars older than this (hours between the decision time / now and the latest bar's close)
    /// are refused as stale; 0 turns the check off.
    public var maxDataAgeHours = 72.0

    public struct Regime: Sendable, Equatable {
        public enum Source: String, Sendable, CaseIterable {
            /// The long_term model's Dirichlet regime head when its checkpoint records it was trained
            /// (`regime_head_trained: true`), else ADX.
            case auto
            /// Always ADX.
            case adx
        }
        public var source: Source = .auto
        /// ADX is computed on the bars of this model's timeframe.
        public var timeframeOf: ModelType = .mediumTerm
        public var adxPeriod = 14
        /// ADX at or above it: trending; below: ranging.
        public var adxThreshold = 25.0
        /// ADX is computed over exactly the last `adxBars` closed bars, so a live call and a backtest see the same
        /// value whatever history they loaded (Wilder smoothing forgets its start as (1 − 1/period)^bars).
        public var adxBars = 150
        public var trending: [ModelType: Double] = [.shortTerm: 0.30, .mediumTerm: 0.35, .longTerm: 0.35]
        public var ranging: [ModelType: Double] = [.shortTerm: 0.50, .mediumTerm: 0.30, .longTerm: 0.20]

        public init() {}

        public func weights(_ regime: MarketRegime) -> [ModelType: Double]? {
            switch regime {
            case .trending: trending
            case .ranging: ranging
            case .unknown: nil
            }
        }
    }

    public struct Volatility: Sendable, Equatable {
        /// Realised volatility is measured on the bars of this model's timeframe.
        public var timeframeOf: ModelType = .shortTerm
        /// Bars per realised-volatility value (population std of log returns).
        public var window = 20
        /// Rolling values the current one is ranked among (its percentile).
        public var lookback = 250
        /// Percentile at or above which volatility is high.
        public var highPercentile = 0.8
        /// High volatility: the combined confidence × this (all weights down).
        public var weightScale = 0.7
        /// High volatility: the confidence threshold + this.
        public var thresholdRaise = 0.05

        public init() {}
    }

    public struct Performance: Sendable, Equatable {
        /// Outcomes kept per model (the most recent ones).
        public var lookbackTrades = 50
        /// Pseudo-trades at 50 % accuracy and zero P&L the record is shrunk toward.
        public var priorTrades = 10.0
        /// multiplier = clamp(1 + sensitivity · score, minMultiplier, maxMultiplier).
        public var sensitivity = 1.0
        /// score = (1 − pnlShare) · accuracy edge + pnlShare · P&L edge.
        public var pnlShare = 0.5
        public var minMultiplier = 0.25
        public var maxMultiplier = 2.0

        public init() {}
    }

    public init() {}

    // MARK: YAML

    public static func load(path: String) throws(ModelError) -> EnsembleConfig {
        let node: YAMLNode
        do { node = try YAMLNode.load(path: path) } catch { throw ModelError(error) }
        return try EnsembleConfig(yaml: node)
    }

    public init(yaml node: YAMLNode) throws(ModelError) {
        let top = ["base_weights", "regime", "volatility", "performance", "disagreement_penalty", "min_confidence",
                   "confidence_floor", "max_data_age_hours"]
        let f = try ConfigFields(node, allowed: top)
        if let n = node["base_weights"] { baseWeights = try Self.weights(n, key: "base_weights") }
        disagreementPenalty = try Self.number(f, "disagreement_penalty", disagreementPenalty, in: 0 ... 1)
        minConfidence = try Self.number(f, "min_confidence", minConfidence, in: 0 ... 1)
        confidenceFloor = try Self.number(f, "confidence_floor", confidenceFloor, in: 0 ... 1)
        maxDataAgeHours = try Self.number(f, "max_data_age_hours", maxDataAgeHours, in: 0 ... 1e6)

        if let n = node["regime"] {
            let r = try ConfigFields(n, allowed: ["source", "timeframe_of", "adx_period", "adx_threshold", "adx_bars", "weights"])
            if let s = n["source"] {
                let text = try Self.string(s)
                guard let source = Regime.Source(rawValue: text) else {
                    throw .invalidConfig(location: s.location, field: "regime.source",
                                         message: "expected one of \(Regime.Source.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
                }
                regime.source = source
            }
            if let m = n["timeframe_of"] { regime.timeframeOf = try Self.model(m, key: "regime.timeframe_of") }
            regime.adxPeriod = try r.int("adx_period", default: regime.adxPeriod, atLeast: 2)
            regime.adxThreshold = try Self.number(r, "adx_threshold", regime.adxThreshold, in: 0 ... 100)
            regime.adxBars = try r.int("adx_bars", default: regime.adxBars, atLeast: 1)
            try requireConfig(regime.adxBars >= 2 * regime.adxPeriod, r.location("adx_bars"), "regime.adx_bars",
                              "must be at least 2 × adx_period = \(2 * regime.adxPeriod) (ADX's own warm-up), got \(regime.adxBars)")
            if let w = n["weights"] {
                _ = try ConfigFields(w, allowed: ["trending", "ranging"])
                if let t = w["trending"] { regime.trending = try Self.weights(t, key: "regime.weights.trending") }
                if let t = w["ranging"] { regime.ranging = try Self.weights(t, key: "regime.weights.ranging") }
            }
        }
        if let n = node["volatility"] {
            let v = try ConfigFields(n, allowed: ["timeframe_of", "window", "lookback", "high_percentile", "weight_scale",
                                                  "threshold_raise"])
            if let m = n["timeframe_of"] { volatility.timeframeOf = try Self.model(m, key: "volatility.timeframe_of") }
            volatility.window = try v.int("window", default: volatility.window, atLeast: 2)
            volatility.lookback = try v.int("lookback", default: volatility.lookback, atLeast: 1)
            volatility.highPercentile = try Self.number(v, "high_percentile", volatility.highPercentile, in: 0 ... 1)
            volatility.weightScale = try Self.number(v, "weight_scale", volatility.weightScale, in: 0 ... 1)
            volatility.thresholdRaise = try Self.number(v, "threshold_raise", volatility.thresholdRaise, in: 0 ... 1)
        }
        if let n = node["performance"] {
            let p = try ConfigFields(n, allowed: ["lookback_trades", "prior_trades", "sensitivity", "pnl_share", "min_multiplier",
                                                  "max_multiplier"])
            performance.lookbackTrades = try p.int("lookback_trades", default: performance.lookbackTrades, atLeast: 1)
            performance.priorTrades = try Self.number(p, "prior_trades", performance.priorTrades, in: 0 ... 1e6)
            performance.sensitivity = try Self.number(p, "sensitivity", performance.sensitivity, in: 0 ... 100)
            performance.pnlShare = try Self.number(p, "pnl_share", performance.pnlShare, in: 0 ... 1)
            performance.minMultiplier = try Self.number(p, "min_multiplier", performance.minMultiplier, in: 0 ... 1)
            performance.maxMultiplier = try Self.number(p, "max_multiplier", performance.maxMultiplier, in: 1 ... 100)
        }
    }

    static func string(_ n: YAMLNode) throws(ModelError) -> String {
        do { return try n.string() } catch { throw ModelError(error) }
    }

    static func model(_ n: YAMLNode, key: String) throws(ModelError) -> ModelType {
        let text = try string(n)
        guard let m = ModelType(rawValue: text) else {
            throw .invalidConfig(location: n.location, field: key,
                                 message: "unknown model '\(text)' (expected \(ModelType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return m
    }

    static func number(_ f: ConfigFields, _ key: String, _ fallback: Double, in range: ClosedRange<Double>) throws(ModelError) -> Double {
        let v: Double
        do { v = try f.node.double(key, default: fallback) } catch { throw ModelError(error) }
        try requireConfig(range.contains(v), f.location(key), key, "must be in [\(range.lowerBound), \(range.upperBound)], got \(v)")
        return v
    }

    /// `{short_term: w, medium_term: w, long_term: w}`: every model named, each ≥ 0, not all 0.
    static func weights(_ n: YAMLNode, key: String) throws(ModelError) -> [ModelType: Double] {
        _ = try ConfigFields(n, allowed: ModelType.allCases.map(\.rawValue))
        var out: [ModelType: Double] = [:]
        for m in ModelType.allCases {
            guard let v = n[m.rawValue] else {
                throw .invalidConfig(location: n.location, field: key, message: "missing the weight of \(m.rawValue) (name all three models)")
            }
            let w: Double
            do { w = try v.double() } catch { throw ModelError(error) }
            try requireConfig(w >= 0, v.location, "\(key).\(m.rawValue)", "a weight must be >= 0, got \(w)")
            out[m] = w
        }
        try requireConfig(out.values.reduce(0, +) > 0, n.location, key, "the weights are all 0")
        return out
    }
}
