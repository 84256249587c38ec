import Common

/// Whether the market trends or ranges at a decision time: ADX over the regime timeframe's bars against
/// `EnsembleConfig.Regime.adxThreshold`, or the long_term model's regime head when it is usable; `unknown` when
/// neither can be computed (too few bars), and then the ensemble uses its base weights.
public enum MarketRegime: String, Sendable, Codable, CaseIterable {
    case trending, ranging, unknown
}

/// One horizon model's say in an ensemble prediction.
///
/// - `alpha`, `beta`: the network's Beta parameters (raw); `pUpRaw` = alpha / (alpha + beta).
/// - `pUp`: `pUpRaw` through the checkpoint's post-hoc calibration (clamped to [1e-6, 1 − 1e-6]).
/// - `confidence` = |2 pUp − 1| · (1 − 2 sd), sd = sqrt(pUp (1 − pUp) / (alpha + beta + 1)): the calibrated edge
///   (0 at a coin flip, 1 at certainty) times the certainty of the calibrated Beta (same concentration
///   kappa = alpha + beta, mean moved to pUp). The edge carries the information: raw BetaNLL concentrations hardly
///   move between samples, so 1 − 2 sd alone would weight every model the same.
/// - `baseWeight`: the model's dynamic weight (regime × recent performance, normalised over the three);
///   `weight`: the effective weight in the mixture, baseWeight · max(confidence, floor), normalised.
/// - `featureTime`: close time (UTC ms) of the last bar the model saw; `timeframe`: that bar's timeframe.
///
///     vote.pUp          // 0.58
///     vote.confidence   // |2·0.58 − 1| · (1 − 2·sqrt(0.58·0.42/11)) = 0.1124
public struct ModelVote: Sendable, Equatable, Codable {
    public var modelType: ModelType
    public var alpha: Double
    public var beta: Double
    public var pUpRaw: Double
    public var pUp: Double
    public var confidence: Double
    public var baseWeight: Double
    public var weight: Double
    public var featureTime: Int64
    public var timeframe: String
    /// +1 when pUp > 0.5, −1 below, 0 at 0.5: the direction recorded outcomes are scored against.
    public var direction: Int

    public init(modelType: ModelType, alpha: Double, beta: Double, pUpRaw: Double, pUp: Double, confidence: Double,
                baseWeight: Double, weight: Double, featureTime: Int64, timeframe: String, direction: Int) {
        self.modelType = modelType
        self.alpha = alpha
        self.beta = beta
        self.pUpRaw = pUpRaw
        self.pUp = pUp
        self.confidence = confidence
        self.baseWeight = baseWeight
        self.weight = weight
        self.featureTime = featureTime
        self.timeframe = timeframe
        self.direction = direction
    }

    /// alpha + beta of the network (the calibrated Beta keeps it).
    public var concentration: Double { alpha + beta }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", alpha, beta, pUpRaw = "p_up_raw", pUp = "p_up", confidence, baseWeight = "base_weight"
        case weight, featureTime = "feature_time", timeframe, direction
    }
}

/// The ensemble's call for one symbol at one decision time, with everything that produced it.
///
/// - `time`: the decision time, the close time (UTC ms) of the latest closed bar used; `dataAge`: ms between the
///   as-of time (or now) and that close.
/// - `pUp`, `alpha`, `beta`: the moment-matched Beta of the weighted mixture of the models' calibrated Betas.
/// - `confidence`: the mixture's |2 pUp − 1| · (1 − 2 sd) × (1 − `disagreementPenalty`) × `weightScale`.
/// - `direction`: sign(pUp − 0.5) when confidence ≥ `confidenceThreshold`, else 0.
/// - `agreement`: the share of effective weight on the majority direction.
/// - `regime`, `volatilityPercentile`, `weightScale` (< 1 in high volatility): the conditions the weights came from.
///
/// JSON keys are snake_case (`p_up`, `disagreement_penalty`, `votes[].feature_time`, ...).
public struct EnsemblePrediction: Sendable, Equatable, Codable {
    public var symbol: String
    public var time: Int64
    public var pUp: Double
    public var alpha: Double
    public var beta: Double
    public var confidence: Double
    public var direction: Int
    public var agreement: Double
    public var disagreementPenalty: Double
    public var confidenceThreshold: Double
    public var regime: MarketRegime
    public var volatilityPercentile: Double
    public var votes: [ModelVote]
    public var dataAge: Int64
    /// 1, or `EnsembleConfig.Volatility.weightScale` in high volatility.
    public var weightScale: Double
    /// ADX at the decision time on the regime timeframe (nil: too few bars, or the regime came from the model).
    public var adx: Double?

    public init(symbol: String, time: Int64, pUp: Double, alpha: Double, beta: Double, confidence: Double, direction: Int,
                agreement: Double, disagreementPenalty: Double, confidenceThreshold: Double, regime: MarketRegime,
                volatilityPercentile: Double, votes: [ModelVote], dataAge: Int64, weightScale: Double = 1, adx: Double? = nil) {
        self.symbol = symbol
        self.time = time
        self.pUp = pUp
        self.alpha = alpha
        self.beta = beta
        self.confidence = confidence
        self.direction = direction
        self.agreement = agreement
        self.disagreementPenalty = disagreementPenalty
        self.confidenceThreshold = confidenceThreshold
        self.regime = regime
        self.volatilityPercentile = volatilityPercentile
        self.votes = votes
        self.dataAge = dataAge
        self.weightScale = weightScale
        self.adx = adx
    }

    /// The vote of `model`, if it took part.
    public func vote(_ model: ModelType) -> ModelVote? { votes.first { $0.modelType == model } }

    enum CodingKeys: String, CodingKey {
        case symbol, time, pUp = "p_up", alpha, beta, confidence, direction, agreement
        case disagreementPenalty = "disagreement_penalty", confidenceThreshold = "confidence_threshold", regime
        case volatilityPercentile = "volatility_percentile", votes, dataAge = "data_age", weightScale = "weight_scale", adx
    }
}
