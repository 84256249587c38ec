import Common
import Foundation

/// What `aitrader train --walk-forward K` reports: `walk_forward.json` in the checkpoint directory (snake_case
/// keys, sorted; non-finite figures absent or null) and the table printed at the end. Per fold: its sample ranges,
/// training summary and out-of-sample figures on its test block (model and baselines, 95 % day-block bootstrap
/// intervals, paired tests, simulated trading); pooled: the same figures over every fold's test samples
/// concatenated in time — the out-of-sample number to quote.
///
///     let result = try WalkForward(config: config, bars: bars, folds: 3, evaluation: .init()).run(backend: .cpu)
///     result.pooled.metrics["model"]?["accuracy"]?.value   // e.g. 0.507
///     try result.write(to: config.checkpointDirectory)
///
/// Checkpoint paths are relative to the checkpoint directory, so the same config and seed give the same file
/// wherever it is written.
public struct WalkForwardResult: Sendable, Codable {
    public var modelType: String
    public var symbol: String
    public var timeframe: String
    public var folds: Int
    public var labelHorizon: Int
    public var embargo: Int
    /// Share of the samples before the first test block.
    public var initialShare: Double
    /// Share of each fold's pre-test samples in its validation tail.
    public var validationShare: Double
    /// The run's seed; fold k trains with seed + k.
    public var seed: UInt64
    public var resamples: Int
    public var bootstrapSeed: UInt64
    public var commission: Double
    public var annualization: Double
    public var perFold: [Fold]
    public var pooled: Pooled

    /// First and last sample time of one part of a fold, and its sample count.
    public struct Range: Sendable, Codable, Equatable {
        public var samples: Int
        public var start: String
        public var end: String
    }

    public struct Fold: Sendable, Codable {
        public var fold: Int
        public var seed: UInt64
        /// The evaluated checkpoint, relative to the checkpoint directory (`fold-0/best.safetensors`).
        public var checkpoint: String
        public var train: Range
        public var validation: Range
        public var test: Range
        public var epochsRun: Int
        /// 1-based.
        public var bestEpoch: Int?
        public var bestValidationLoss: Double?
        public var trainBaseRate: Double
        public var metrics: [String: [String: Estimate]]
        public var pairedTests: [PairedTest]
        public var trading: [SignalBacktest]
    }

    public struct Pooled: Sendable, Codable {
        public var samples: Int
        public var days: Int
        public var start: String
        public var end: String
        public var metrics: [String: [String: Estimate]]
        public var pairedTests: [PairedTest]
        public var reliability: [ClassificationMetrics.Bin]
        public var trading: [SignalBacktest]
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return ((try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}") + "\n"
    }

    /// Writes `walk_forward.json` into `directory` atomically; returns its path.
    @discardableResult
    public func write(to directory: String) throws(TrainingError) -> String {
        let path = directory + "/walk_forward.json"
        do {
            try AtomicFile.createDirectories(directory)
            try AtomicFile.write(Array(json.utf8), to: path)
        } catch { throw .failed(context: "writing \(path)", message: "\(error)") }
        return path
    }

    /// The model per fold and pooled (test samples, accuracy, log loss, Brier, ECE (bias-corrected), AUC of the
    /// confidence for a right call, simulated Sharpe, each with its interval), then every forecast pooled and the
    /// paired tests.
    public var table: String {
        func value(_ e: Estimate?, _ digits: Int = 3) -> String {
            guard let v = e?.value else { return "-" }
            let lo = e?.low.map { String(format: "%.\(digits)f", $0) } ?? "?", hi = e?.high.map { String(format: "%.\(digits)f", $0) } ?? "?"
            return String(format: "%.\(digits)f", v) + " [\(lo), \(hi)]"
        }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func row(_ cells: [String]) -> String {
            var line = zip(cells, [16, 8, 22, 22, 22, 22, 22, 24]).map { pad($0, $1) }.joined(separator: " ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
        func sharpe(_ trading: [SignalBacktest], _ name: String) -> Estimate? { trading.first { $0.name == name }?.sharpeInterval }
        var lines = ["walk-forward \(modelType) \(symbol) \(timeframe): \(folds) folds, out-of-sample test blocks "
            + "(95 % day-block bootstrap intervals, \(resamples) resamples)"]
        lines.append(row(["", "samples", "accuracy", "log loss", "brier", "ece", "confidence auc", "sharpe"]))
        for f in perFold {
            let m = f.metrics["model"]
            lines.append(row(["fold \(f.fold)", "\(f.test.samples)", value(m?["accuracy"]), value(m?["log_loss"]),
                              value(m?["brier"]), value(m?["ece"]), value(m?["confidence_auc"]), value(sharpe(f.trading, "model"), 2)]))
        }
        let m = pooled.metrics["model"]
        lines.append(row(["pooled", "\(pooled.samples)", value(m?["accuracy"]), value(m?["log_loss"]), value(m?["brier"]),
                          value(m?["ece"]), value(m?["confidence_auc"]), value(sharpe(pooled.trading, "model"), 2)]))
        lines.append("pooled \(pooled.start) … \(pooled.end), \(pooled.days) days:")
        for name in EvaluationResult.forecastOrder {
            guard let m = pooled.metrics[name] else { continue }
            lines.append(row([name, "", value(m["accuracy"]), value(m["log_loss"]), value(m["brier"]), value(m["ece"]),
                              value(m["confidence_auc"]), value(sharpe(pooled.trading, name), 2)]))
        }
        for t in pooled.pairedTests {
            lines.append("  model − \(t.baseline) \(t.metric): \(value(t.difference, 4)), p = "
                + (t.pValue.map { String(format: "%.3f", $0) } ?? "-"))
        }
        return lines.joined(separator: "\n")
    }
}
