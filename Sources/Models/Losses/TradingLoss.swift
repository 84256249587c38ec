import Engine

/// The training objective of the three models: a weighted sum of
/// - direction (always on), by `objective`: `.betaNLL` — BetaNLL of the Beta prediction against the target (the
///   up/down label, or any target in [0, 1] such as a return's rank), or `.evidential` — the Beta-Bernoulli marginal
///   NLL against the label plus `evidenceRegularizer` × the misleading-evidence KL (`EvidentialBetaLoss`),
/// - calibration: CalibrationLoss of p = alpha / (alpha + beta) (weight 0.1 by default, 0 turns it off),
/// - forecast: MSE of long_term's N-BEATS forecast against the realised path (only when targets carry one),
/// - regime: Dirichlet NLL of long_term's regime head against the smoothed regime label (only when given).
///
///     let loss = TradingLoss(weights: .init(calibration: 0))         // benchmarks: BetaNLL only
///     let evidential = TradingLoss(objective: .evidential)
///     evidential.evidenceRegularizer = 0.3                            // this epoch's annealed λ
///     let parts = try loss.forward(out, targets: TradingTargets(labels: labels))
///     try model.backward(try loss.backward())
public final class TradingLoss {
    public struct Weights: Equatable, Sendable {
        public var direction: Float
        public var calibration: Float
        public var forecast: Float
        public var regime: Float
        public init(direction: Float = 1, calibration: Float = 0.1, forecast: Float = 0.5, regime: Float = 0.2) {
            self.direction = direction
            self.calibration = calibration
            self.forecast = forecast
            self.regime = regime
        }
    }

    /// How the direction term is computed.
    public enum DirectionObjective: String, Equatable, Sendable {
        /// BetaNLL of the (squashed) target (`BetaNLLLoss`).
        case betaNLL
        /// Beta-Bernoulli marginal NLL + λ KL of the misleading evidence (`EvidentialBetaLoss`).
        case evidential
    }

    /// The loss terms of one batch (unweighted) and their weighted total.
    public struct Breakdown: Equatable, Sendable {
        public var total: Float = 0
        /// BetaNLL, or the evidential objective's marginal NLL (without the regulariser).
        public var direction: Float = 0
        /// The evidential objective's mean KL of the misleading evidence (unweighted; in `total` as
        /// weights.direction × evidenceRegularizer × evidence).
        public var evidence: Float?
        public var calibration: Float?
        public var forecast: Float?
        public var regime: Float?
    }

    public let weights: Weights
    public let objective: DirectionObjective
    /// λ of the evidential objective's KL term (ignored by `.betaNLL`); the trainer sets it every epoch.
    public var evidenceRegularizer: Float = 0
    public let direction: BetaNLLLoss
    public let evidential = EvidentialBetaLoss()
    public let calibration: CalibrationLoss
    public let forecast = ForecastMSELoss()
    public let regime: DirichletNLLLoss
    private var active: (calibration: Bool, forecast: Bool, regime: Bool) = (false, false, false)
    private var dAlpha = GradientSum()
    private var dBeta = GradientSum()

    public init(weights: Weights = Weights(), objective: DirectionObjective = .betaNLL, labelEpsilon: Float = 0.05,
                calibrationBins: Int = 10, regimeSmoothing: Float = 0.1) {
        self.weights = weights
        self.objective = objective
        direction = BetaNLLLoss(labelEpsilon: labelEpsilon)
        calibration = CalibrationLoss(bins: calibrationBins)
        regime = DirichletNLLLoss(smoothing: regimeSmoothing)
    }

    public func forward(_ output: ModelOutput, targets: TradingTargets) throws(EngineError) -> Breakdown {
        var parts = Breakdown()
        switch objective {
        case .betaNLL:
            parts.direction = try direction.forward(output.prediction, labels: targets.labels)
            parts.total = weights.direction * parts.direction
        case .evidential:
            let (nll, kl) = try evidential.forward(output.prediction, labels: targets.labels, regularizer: evidenceRegularizer)
            parts.direction = nll
            parts.evidence = kl
            parts.total = weights.direction * (nll + evidenceRegularizer * kl)
        }
        active = (weights.calibration != 0, false, false)
        if active.calibration {
            let c = try calibration.forward(output.prediction, labels: targets.labels)
            parts.calibration = c
            parts.total += weights.calibration * c
        }
        if weights.forecast != 0, let target = targets.forecast {
            guard let f = output.forecast else {
                throw .invalidArgument(context: "TradingLoss", message: "forecast targets given but the model has no forecast")
            }
            let m = try forecast.forward(f, target: target)
            parts.forecast = m
            parts.total += weights.forecast * m
            active.forecast = true
        }
        if weights.regime != 0, let regimes = targets.regimes {
            guard let c = output.regime else {
                throw .invalidArgument(context: "TradingLoss", message: "regime labels given but the model has no regime head")
            }
            let r = try regime.forward(concentration: c, regimes: regimes)
            parts.regime = r
            parts.total += weights.regime * r
            active.regime = true
        }
        return parts
    }

    /// Gradients of the weighted total with respect to the model outputs, ready for `model.backward`.
    public func backward() throws(EngineError) -> OutputGradients {
        var (da, db) = objective == .betaNLL ? try direction.backward(weight: weights.direction)
            : try evidential.backward(weight: weights.direction)
        if active.calibration {
            let (ca, cb) = try calibration.backward(weight: weights.calibration)
            da = try dAlpha.sum(da, ca)
            db = try dBeta.sum(db, cb)
        }
        var gradients = OutputGradients(alpha: da, beta: db)
        if active.forecast { gradients.forecast = try forecast.backward(weight: weights.forecast) }
        if active.regime { gradients.regime = try regime.backward(weight: weights.regime) }
        return gradients
    }
}

/// What a batch is trained against: the direction labels (B) and, for long_term, optionally the realised
/// forecast path (B, H) and the regime class of every sample (0 trending up, 1 trending down, 2 ranging).
public struct TradingTargets: Sendable {
    public var labels: Tensor
    public var forecast: Tensor?
    public var regimes: [Int]?

    public init(labels: Tensor, forecast: Tensor? = nil, regimes: [Int]? = nil) {
        self.labels = labels
        self.forecast = forecast
        self.regimes = regimes
    }
}
