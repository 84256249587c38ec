import Common

/// Each model's weight at a decision time, from the market regime, the volatility level and the model's recent
/// realised record (the plan's `DynamicWeightCalculator(baseWeights, lookbackTrades: 50)`).
///
/// 1. Regime: `trending` when ADX ≥ `adx_threshold` (or, with a usable regime head, when its trending classes hold
///    more than half the Dirichlet mean), else `ranging`; `unknown` without either. Weights: the regime's
///    (trending 0.30 / 0.35 / 0.35, ranging 0.50 / 0.30 / 0.20), the base weights when unknown.
/// 2. Performance: each model's last `lookback_trades` recorded outcomes (its vote's direction against the realised
///    return's sign; returns of exactly 0 and votes at p = 0.5 are not recorded). With n outcomes, h hits, k prior
///    trades, P&L Σ d·r and Σ |r|:
///
///        accuracy edge = 2 (h + k/2) / (n + k) − 1
///        P&L edge      = (Σ d·r / Σ |r|) · n / (n + k)         (0 while Σ |r| = 0)
///        score         = (1 − pnl_share) · accuracy edge + pnl_share · P&L edge     ∈ [−1, 1]
///        multiplier    = clamp(1 + sensitivity · score, min_multiplier, max_multiplier)
///
///    weight_i = regime weight_i · multiplier_i, normalised to sum 1.
/// 3. Volatility: percentile ≥ `high_percentile` → weight scale `weight_scale` (the combined confidence, i.e. the
///    ensemble's total weight, goes down) and threshold `min_confidence + threshold_raise`.
///
/// Worked example: 50 outcomes, 30 hits, k = 10, P&L edge 0.2 before shrinking, pnl_share 0.5, sensitivity 1:
/// accuracy edge 2·35/60 − 1 = 0.1667, P&L edge 0.2·50/60 = 0.1667, multiplier 1.1667.
///
///     var calculator = DynamicWeightCalculator(baseWeights: config.baseWeights, lookbackTrades: 50, rules: config)
///     calculator.record(model: .shortTerm, direction: 1, realizedReturn: 0.004)
///     let decision = calculator.decide(MarketConditions(adx: 31, volatilityPercentile: 0.4))   // trending
public struct DynamicWeightCalculator: Sendable, Equatable {
    public let baseWeights: [ModelType: Double]
    public let lookbackTrades: Int
    public let rules: EnsembleConfig

    /// One scored vote.
    public struct Outcome: Sendable, Equatable {
        public var direction: Int
        public var realizedReturn: Double
        public var hit: Bool { Double(direction) * realizedReturn > 0 }
    }

    /// Per model, oldest first, at most `lookbackTrades`.
    public private(set) var outcomes: [ModelType: [Outcome]] = [:]

    public init(baseWeights: [ModelType: Double], lookbackTrades: Int = 50, rules: EnsembleConfig = EnsembleConfig()) {
        self.baseWeights = baseWeights
        self.lookbackTrades = max(1, lookbackTrades)
        self.rules = rules
    }

    /// The calculator of `config` (its base weights and lookback).
    public init(config: EnsembleConfig) {
        self.init(baseWeights: config.baseWeights, lookbackTrades: config.performance.lookbackTrades, rules: config)
    }

    /// Scores a model's vote (direction +1 / −1) against the realised return over its horizon. Directions of 0,
    /// non-finite returns and returns of exactly 0 carry no information and are not kept.
    public mutating func record(model: ModelType, direction: Int, realizedReturn: Double) {
        guard direction != 0, realizedReturn.isFinite, realizedReturn != 0 else { return }
        var list = outcomes[model] ?? []
        list.append(Outcome(direction: direction > 0 ? 1 : -1, realizedReturn: realizedReturn))
        if list.count > lookbackTrades { list.removeFirst(list.count - lookbackTrades) }
        outcomes[model] = list
    }

    /// A model's recent record and the multiplier it earns.
    public struct Performance: Sendable, Equatable {
        public var trades: Int
        public var hits: Int
        public var pnl: Double
        public var accuracyEdge: Double
        public var pnlEdge: Double
        public var multiplier: Double
        /// hits / trades (nan with no trades).
        public var accuracy: Double { trades > 0 ? Double(hits) / Double(trades) : .nan }
    }

    public func performance(_ model: ModelType) -> Performance {
        let list = outcomes[model] ?? []
        let p = rules.performance
        let n = Double(list.count), k = p.priorTrades
        let hits = list.filter(\.hit).count
        let pnl = list.reduce(0) { $0 + Double($1.direction) * $1.realizedReturn }
        let absolute = list.reduce(0) { $0 + abs($1.realizedReturn) }
        let accuracyEdge = n + k > 0 ? 2 * (Double(hits) + k / 2) / (n + k) - 1 : 0
        let pnlEdge = absolute > 0 ? (pnl / absolute) * n / (n + k) : 0
        let score = (1 - p.pnlShare) * accuracyEdge + p.pnlShare * pnlEdge
        let multiplier = min(max(1 + p.sensitivity * score, p.minMultiplier), p.maxMultiplier)
        return Performance(trades: list.count, hits: hits, pnl: pnl, accuracyEdge: accuracyEdge, pnlEdge: pnlEdge,
                           multiplier: multiplier)
    }

    /// The regime the conditions show (the regime head first when given, then ADX).
    public func regime(_ conditions: MarketConditions) -> MarketRegime {
        if rules.regime.source == .auto, let c = conditions.regimeConcentrations, c.count >= 3 {
            let total = c.reduce(0, +)
            if total > 0, total.isFinite { return (c[0] + c[1]) / total > 0.5 ? .trending : .ranging }
        }
        guard let adx = conditions.adx, adx.isFinite else { return .unknown }
        return adx >= rules.regime.adxThreshold ? .trending : .ranging
    }

    public func decide(_ conditions: MarketConditions) -> WeightDecision {
        let fromHead = rules.regime.source == .auto && conditions.regimeConcentrations != nil
        return decide(regime: regime(conditions), adx: fromHead ? nil : conditions.adx,
                      volatilityPercentile: conditions.volatilityPercentile)
    }

    /// The decision for a regime already classified (e.g. a stored prediction's, to re-weight it after new outcomes).
    public func decide(regime: MarketRegime, adx: Double? = nil, volatilityPercentile: Double?) -> WeightDecision {
        let start = rules.regime.weights(regime) ?? baseWeights
        var weights: [ModelType: Double] = [:]
        for m in ModelType.allCases { weights[m] = max(0, start[m] ?? 0) * performance(m).multiplier }
        // Summed in model order: a dictionary's iteration order differs between instances, and so would the last bit.
        let total = ModelType.allCases.reduce(0) { $0 + weights[$1]! }
        if total > 0 { for m in ModelType.allCases { weights[m]! /= total } }
        else { for m in ModelType.allCases { weights[m] = 1 / Double(ModelType.allCases.count) } }
        let v = rules.volatility
        let percentile = volatilityPercentile.flatMap { $0.isFinite ? $0 : nil }
        let high = percentile.map { $0 >= v.highPercentile } ?? false
        return WeightDecision(weights: weights, regime: regime, adx: adx, volatilityPercentile: percentile ?? 0.5,
                              highVolatility: high, weightScale: high ? v.weightScale : 1,
                              confidenceThreshold: rules.minConfidence + (high ? v.thresholdRaise : 0))
    }
}
