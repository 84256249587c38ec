import Foundation

/// A figure with its 95 % day-block bootstrap interval (nil where not finite, e.g. an AUC without both outcomes).
public struct Estimate: Sendable, Codable, Equatable {
    public var value: Double?
    public var low: Double?
    public var high: Double?

    public init(_ value: Double, low: Double, high: Double) {
        self.value = value.isFinite ? value : nil
        self.low = low.isFinite ? low : nil
        self.high = high.isFinite ? high : nil
    }
}

/// A paired bootstrap comparison of the model with a baseline on one figure.
public struct PairedTest: Sendable, Codable, Equatable {
    public var metric: String
    public var baseline: String
    /// model − baseline (for log loss, negative favours the model).
    public var difference: Estimate
    /// Two-sided bootstrap p-value of "no difference" (`DayBlockBootstrap.pValue`).
    public var pValue: Double?
}

/// One evaluated sample: what predictions.csv holds.
public struct EvaluatedSample: Sendable, Equatable {
    public var timestamp: Int64
    /// The network's p(up) = alpha / (alpha + beta).
    public var pUp: Double
    /// `pUp` through the checkpoint's calibration (equal to it without one).
    public var pUpCalibrated: Double
    public var alpha: Double
    public var beta: Double
    public var confidence: Double
    /// 1 up, 0 down.
    public var label: Int
    /// The label horizon's log return ln(c[t+H]/c[t]).
    public var forwardReturn: Double
    /// The next bar's simple return c[t+1]/c[t] − 1 (what the simulated trading earns).
    public var nextReturn: Double
}

/// Everything `aitrader evaluate` reports: evaluation.json is this struct (snake_case keys); predictions.csv and
/// report.html are drawn from it.
public struct EvaluationResult: Sendable, Codable {
    public var checkpoint: String
    public var modelType: String
    public var symbol: String
    public var timeframe: String
    public var split: String
    public var samples: Int
    public var days: Int
    public var start: String
    public var end: String
    public var labelHorizon: Int
    /// Share of up labels in the training split (the base-rate forecast).
    public var trainBaseRate: Double
    public var resamples: Int
    public var seed: UInt64
    public var commission: Double
    public var annualization: Double
    /// Forecast → figure → estimate; figures a forecast has no meaning for are absent (see `Forecast`). `ece` is
    /// bias-corrected with the basic bootstrap interval, `ece_plugin` the plain binned ECE (no interval; see
    /// `Evaluation.biasCorrectedFigures`); `confidence_auc` / `concentration_auc` (model only): AUC of the confidence
    /// / of alpha + beta for "the direction call was right".
    public var metrics: [String: [String: Estimate]]
    /// The checkpoint's calibration method (`none` when it records none: older checkpoints).
    public var calibration: String
    /// The checkpoint's `calibration` metadata as recorded (JSON; nil when absent).
    public var calibrationParameters: String?
    /// The model's reliability diagram (10 equal-width bins of the raw p_up).
    public var reliability: [ClassificationMetrics.Bin]
    /// The same of the calibrated p_up.
    public var reliabilityCalibrated: [ClassificationMetrics.Bin]
    public var pairedTests: [PairedTest]
    /// Simulated trading per strategy (`SignalBacktest`).
    public var trading: [SignalBacktest]
    public var logistic: LogisticRegression
    /// Not in JSON (predictions.csv).
    public var predictions: [EvaluatedSample] = []

    enum CodingKeys: String, CodingKey {
        case checkpoint, modelType, symbol, timeframe, split, samples, days, start, end, labelHorizon, trainBaseRate,
             resamples, seed, commission, annualization, metrics, calibration, calibrationParameters, reliability,
             reliabilityCalibrated, pairedTests, trading, logistic
    }

    /// The figures in the order the table and the report show them.
    public static let figureOrder = ["accuracy", "precision", "recall", "f1", "log_loss", "brier", "ece", "ece_plugin", "mce",
                                     "confidence_auc", "concentration_auc"]
    /// The forecasts in the order the table shows them.
    public static let forecastOrder = ["model", "model_calibrated", "always_up", "previous_return", "logistic", "base_rate"]
}

extension ClassificationMetrics.Bin {
    enum CodingKeys: String, CodingKey { case lower, upper, count, meanP, frequency }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lower, forKey: .lower)
        try c.encode(upper, forKey: .upper)
        try c.encode(count, forKey: .count)
        try c.encodeIfPresent(meanP.isFinite ? meanP : nil, forKey: .meanP)
        try c.encodeIfPresent(frequency.isFinite ? frequency : nil, forKey: .frequency)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lower = try c.decode(Double.self, forKey: .lower)
        upper = try c.decode(Double.self, forKey: .upper)
        count = try c.decode(Int.self, forKey: .count)
        meanP = try c.decodeIfPresent(Double.self, forKey: .meanP) ?? .nan
        frequency = try c.decodeIfPresent(Double.self, forKey: .frequency) ?? .nan
    }
}
