import Engine

/// A Beta distribution over "the price goes up over the horizon", one per sample: alpha and beta, each (B), on
/// the backend that ran the model.
///
///     let out = try model.forward(input)
///     let (alpha, beta) = try out.prediction.values()
public struct BetaPrediction: Sendable {
    public let alpha: Tensor
    public let beta: Tensor

    public init(alpha: Tensor, beta: Tensor) {
        self.alpha = alpha
        self.beta = beta
    }

    public var batchSize: Int { alpha.count }

    /// Both parameters copied to the host.
    public func values() throws(EngineError) -> (alpha: [Float], beta: [Float]) {
        (try alpha.toArray(), try beta.toArray())
    }

    /// The robot's view of every sample (direction, probability, confidence), p(up) mapped through `calibration`
    /// (the checkpoint's `CheckpointMetadata.calibration`; nil: raw).
    ///
    ///     let (model, meta) = try Checkpoint.load(path, backend: .cpu)
    ///     let calls = try model.forward(input).prediction.confident(calibration: meta.calibration)
    public func confident(calibration: ProbabilityCalibration? = nil) throws(EngineError) -> [ConfidentPrediction] {
        let (a, b) = try values()
        return zip(a, b).map { ConfidentPrediction(alpha: $0, beta: $1, calibration: calibration) }
    }
}

/// What the trading robot reads from one Beta prediction (definitions of shared/design/models.md):
/// - raw probability of "up" = alpha / (alpha + beta)
/// - probability p of "up" = the raw one through the checkpoint's `ProbabilityCalibration` (the raw one without)
/// - concentration kappa = alpha + beta
/// - confidence = clip(1 - sqrt(var) / 0.5, 0, 1), var = alpha beta / (kappa^2 (kappa + 1)); 0.5 is the largest
///   standard deviation of a variable on [0, 1]
/// - direction = +1 if p > 0.5, -1 if p < 0.5, 0 at exactly 0.5 (of the calibrated p)
///
/// alpha, beta, concentration and confidence are always the network's own (calibration only maps p).
///
///     let c = ConfidentPrediction(alpha: 8, beta: 2)
///     c.direction      // 1
///     c.probability    // 0.8
///     c.confidence     // 1 - sqrt(16 / (100 * 11)) / 0.5 = 0.7588...
///     let d = ConfidentPrediction(alpha: 8, beta: 2, calibration: .init(method: .platt, platt: .init(a: 0.5, b: 0),
///                                                                        isotonic: nil, samples: 0, logLoss: [:]))
///     d.rawProbability // 0.8
///     d.probability    // σ(0.5 · ln 4) = 2/3
public struct ConfidentPrediction: Sendable, Equatable, CustomStringConvertible {
    public let direction: Int
    public let probability: Float
    /// alpha / (alpha + beta), before calibration.
    public let rawProbability: Float
    public let confidence: Float
    public let alpha: Float
    public let beta: Float

    public init(alpha: Float, beta: Float, calibration: ProbabilityCalibration? = nil) {
        let a = Double(alpha), b = Double(beta)
        let kappa = a + b
        let raw = a / kappa
        let p = calibration?.apply(raw) ?? raw
        let variance = a * b / (kappa * kappa * (kappa + 1))
        self.alpha = alpha
        self.beta = beta
        probability = Float(p)
        rawProbability = Float(raw)
        concentration = Float(kappa)
        confidence = Float(min(1, max(0, 1 - variance.squareRoot() / 0.5)))
        direction = p > 0.5 ? 1 : (p < 0.5 ? -1 : 0)
    }

    /// alpha + beta: higher means more certain.
    public let concentration: Float

    public var description: String {
        "direction \(direction > 0 ? "+1" : String(direction)), p(up) \(probability)\(probability == rawProbability ? "" : " (raw \(rawProbability))"), confidence \(confidence) (alpha \(alpha), beta \(beta))"
    }
}
