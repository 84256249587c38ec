import Common

/// One horizon model's output for one symbol at one decision time, before it is weighted: the network's alpha and
/// beta, the checkpoint's calibration of p(up), and what the model saw.
public struct HorizonForecast: Sendable, Equatable {
    public var modelType: ModelType
    public var alpha: Double
    public var beta: Double
    public var calibration: ProbabilityCalibration
    /// Close time (UTC ms) of the last bar in the model's window.
    public var featureTime: Int64
    public var timeframe: String

    public init(modelType: ModelType, alpha: Double, beta: Double, calibration: ProbabilityCalibration = .identity,
                featureTime: Int64, timeframe: String) {
        self.modelType = modelType
        self.alpha = alpha
        self.beta = beta
        self.calibration = calibration
        self.featureTime = featureTime
        self.timeframe = timeframe
    }
}

/// The combiner of the three horizon models (the plan's `TechnicalEnsemble(short, medium, long, weights)`; the
/// models themselves run in `Prediction.EnsemblePredictor`, which feeds this their Beta outputs).
///
/// For each model i (alpha_i, beta_i from the network; C_i its checkpoint's calibration; b_i its dynamic weight
/// from `DynamicWeightCalculator`, normalised):
///
///     kappa_i = alpha_i + beta_i,  p_i = clamp(C_i(alpha_i / kappa_i), 1e-6, 1 − 1e-6)
///     sd_i = sqrt(p_i (1 − p_i) / (kappa_i + 1))                    (the calibrated Beta: mean p_i, same kappa_i)
///     c_i = |2 p_i − 1| · (1 − 2 sd_i)                              (confidence: calibrated edge × certainty)
///     w_i = b_i · max(c_i, floor) / Σ_j b_j · max(c_j, floor)      (effective weight)
///
/// The combined Beta is the moment-matched mixture Σ w_i Beta(p_i kappa_i, (1 − p_i) kappa_i) (`BetaMixture`):
/// mean m, variance V, kappa = m (1 − m) / V − 1. With W+ / W− the effective weight of models with p_i above /
/// below 0.5:
///
///     agreement A = max(W+, W−)
///     penalty   P = λ · 2 · min(W+, W−)                             (λ = disagreement_penalty; an even split costs λ)
///     confidence  = |2m − 1| · (1 − 2 sqrt(V)) · (1 − P) · s        (s = weight scale: < 1 in high volatility)
///     direction   = sign(m − 0.5) if confidence ≥ τ else 0          (τ = threshold, raised in high volatility)
///
/// Worked example (λ 0.5, floor 0.05, b = 0.3 / 0.35 / 0.35, s = 1, identity calibrations):
///
///     short  alpha 6,   beta 4     p 0.6    kappa 10  sd 0.14771  c 0.2 · 0.70458 = 0.14092
///     medium alpha 3.3, beta 2.7   p 0.55   kappa 6   sd 0.18803  c 0.1 · 0.62394 = 0.06239
///     long   alpha 1.2, beta 2.8   p 0.3    kappa 4   sd 0.20494  c 0.4 · 0.59011 = 0.23604
///     raw weights 0.042275, 0.021838, 0.082616 -> w = 0.28812, 0.14883, 0.56305
///     m = Σ w p = 0.42364,  V = Σ w (sd² + p²) − m² = 0.055142,  kappa 3.4280, alpha 1.45226, beta 1.97578
///     W+ = 0.43694, W− = 0.56306: agreement 0.56306, penalty 0.5 · 2 · 0.43694 = 0.43694
///     confidence = 0.15272 · (1 − 2·0.23482) · (1 − 0.43694) = 0.045604 -> direction 0 at τ = 0.05
///     (the long model alone leans down; the short and medium models' opposing weight costs 44 % of the confidence)
///
/// (`Tests/ModelsTests/EnsembleFormulaTests` checks these and numpy's values from
/// `tools/reference/ensemble_fixtures.py`.)
public struct TechnicalEnsemble: Sendable {
    public let config: EnsembleConfig

    public init(config: EnsembleConfig = EnsembleConfig()) { self.config = config }

    /// Calibrated probabilities are kept inside (0, 1) so every calibrated Beta is a proper distribution (isotonic
    /// calibration can return exactly 0 or 1).
    public static let probabilityLimit = 1e-6

    /// A model's vote before weighting (`baseWeight` and `weight` 0): raw and calibrated p, confidence, direction.
    public static func vote(_ f: HorizonForecast) -> ModelVote {
        let kappa = f.alpha + f.beta
        let raw = f.alpha / kappa
        let p = min(max(f.calibration.apply(raw), probabilityLimit), 1 - probabilityLimit)
        return ModelVote(modelType: f.modelType, alpha: f.alpha, beta: f.beta, pUpRaw: raw, pUp: p,
                         confidence: confidence(p: p, concentration: kappa), baseWeight: 0, weight: 0,
                         featureTime: f.featureTime, timeframe: f.timeframe, direction: p > 0.5 ? 1 : (p < 0.5 ? -1 : 0))
    }

    /// |2p − 1| · (1 − 2 sd) of a Beta with mean p and concentration kappa (sd < 0.5 always, so it is in [0, 1)).
    public static func confidence(p: Double, concentration kappa: Double) -> Double {
        let sd = (p * (1 - p) / (kappa + 1)).squareRoot()
        return confidence(mean: p, standardDeviation: sd)
    }

    static func confidence(mean p: Double, standardDeviation sd: Double) -> Double {
        min(1, max(0, abs(2 * p - 1) * (1 - 2 * sd)))
    }

    /// The ensemble's prediction from the models' forecasts at one decision time, weighted by `decision`.
    public func combine(symbol: String, time: Int64, forecasts: [HorizonForecast], decision: WeightDecision,
                        dataAge: Int64) -> EnsemblePrediction {
        combine(symbol: symbol, time: time, votes: forecasts.map(Self.vote), decision: decision, dataAge: dataAge)
    }

    /// The same prediction with other weights (the votes' p and confidence kept): what a backtest uses to apply
    /// the dynamic weights of its own recorded outcomes to predictions computed in one batch.
    public func reweight(_ prediction: EnsemblePrediction, decision: WeightDecision) -> EnsemblePrediction {
        combine(symbol: prediction.symbol, time: prediction.time, votes: prediction.votes, decision: decision,
                dataAge: prediction.dataAge)
    }

    func combine(symbol: String, time: Int64, votes input: [ModelVote], decision: WeightDecision, dataAge: Int64) -> EnsemblePrediction {
        precondition(!input.isEmpty, "an ensemble of no models")
        var votes = input
        let base = votes.map { max(0, decision.weights[$0.modelType] ?? 0) }
        let baseSum = base.reduce(0, +)
        let baseWeights = baseSum > 0 ? base.map { $0 / baseSum } : base.map { _ in 1 / Double(base.count) }
        let raw = zip(votes, baseWeights).map { $1 * max($0.confidence, config.confidenceFloor) }
        let rawSum = raw.reduce(0, +)
        // Every confidence 0 and floor 0: the base weights decide.
        let weights = rawSum > 0 ? raw.map { $0 / rawSum } : baseWeights
        for i in votes.indices {
            votes[i].baseWeight = baseWeights[i]
            votes[i].weight = weights[i]
        }
        let mixture = BetaMixture(means: votes.map(\.pUp), concentrations: votes.map(\.concentration), weights: weights)
        var up = 0.0, down = 0.0
        for v in votes {
            if v.direction > 0 { up += v.weight } else if v.direction < 0 { down += v.weight }
        }
        let agreement = max(up, down)
        let penalty = config.disagreementPenalty * 2 * min(up, down)
        let m = mixture.mean
        let confidence = Self.confidence(mean: m, standardDeviation: mixture.standardDeviation) * (1 - penalty) * decision.weightScale
        let side = m > 0.5 ? 1 : (m < 0.5 ? -1 : 0)
        return EnsemblePrediction(
            symbol: symbol, time: time, pUp: m, alpha: mixture.alpha, beta: mixture.beta, confidence: confidence,
            direction: confidence >= decision.confidenceThreshold ? side : 0, agreement: agreement, disagreementPenalty: penalty,
            confidenceThreshold: decision.confidenceThreshold, regime: decision.regime,
            volatilityPercentile: decision.volatilityPercentile, votes: votes, dataAge: dataAge, weightScale: decision.weightScale,
            adx: decision.adx)
    }
}
