import Common

/// What the weights depend on besides the models' recent record, measured at a decision time from closed bars
/// (`Prediction.MarketConditionsCalculator` computes them from the store):
/// - `adx`: ADX over the regime timeframe's last `adx_bars` closed bars (nil: too few bars);
/// - `regimeConcentrations`: the long_term model's Dirichlet regime head {trending up, trending down, ranging}, when
///   the checkpoint records that head as trained;
/// - `volatilityPercentile`: the share of the last `lookback` realised-volatility values at or below the current
///   one (nil: too few bars).
public struct MarketConditions: Sendable, Equatable {
    public var adx: Double?
    public var regimeConcentrations: [Double]?
    public var volatilityPercentile: Double?

    public init(adx: Double? = nil, regimeConcentrations: [Double]? = nil, volatilityPercentile: Double? = nil) {
        self.adx = adx
        self.regimeConcentrations = regimeConcentrations
        self.volatilityPercentile = volatilityPercentile
    }
}

/// What `DynamicWeightCalculator` decides for one decision time: each model's weight before confidence (regime ×
/// recent performance, normalised), the regime, the volatility rule's weight scale and the confidence threshold.
public struct WeightDecision: Sendable, Equatable {
    public var weights: [ModelType: Double]
    public var regime: MarketRegime
    public var adx: Double?
    /// 0.5 when it could not be measured.
    public var volatilityPercentile: Double
    public var highVolatility: Bool
    public var weightScale: Double
    public var confidenceThreshold: Double

    public init(weights: [ModelType: Double], regime: MarketRegime = .unknown, adx: Double? = nil, volatilityPercentile: Double = 0.5,
                highVolatility: Bool = false, weightScale: Double = 1, confidenceThreshold: Double = 0.05) {
        self.weights = weights
        self.regime = regime
        self.adx = adx
        self.volatilityPercentile = volatilityPercentile
        self.highVolatility = highVolatility
        self.weightScale = weightScale
        self.confidenceThreshold = confidenceThreshold
    }
}

