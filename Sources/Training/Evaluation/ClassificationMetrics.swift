import Foundation
import Models

/// Direction-forecast metrics of probabilities `p` (of "up") against labels `y` (1 up, 0 down), with the
/// definitions of scikit-learn 1.9 and the usual calibration conventions:
///
/// - accuracy: share of samples where (p > 0.5) equals the label (p = 0.5 counts as "down", as `p > 0.5` does in
///   training's validation accuracy).
/// - precision, recall, F1 of the "up" class (sklearn's `zero_division=0`: 0 when the denominator is 0).
/// - log loss: −mean(y ln p + (1 − y) ln(1 − p)), p clipped to [ε, 1 − ε] with ε the Double machine epsilon
///   (sklearn's clipping for float64 input).
/// - Brier score: mean (p − y)².
/// - ECE / MCE: 10 equal-width bins of p (bin = min(⌊10 p⌋, 9)); ECE = Σ (n_b / N) |mean p_b − frequency_b|, MCE =
///   the largest |mean p_b − frequency_b| over non-empty bins.
/// - AUC: the area under the ROC curve of `score` for a binary outcome (Mann–Whitney with average ranks for ties,
///   equal to sklearn's `roc_auc_score`); NaN when one class is absent.
///
///     let m = ClassificationMetrics(p: [0.7, 0.2, 0.6], y: [1, 0, 0])
///     m.accuracy   // 2/3
public struct ClassificationMetrics: Sendable, Equatable, Codable {
    public var count: Int
    public var accuracy: Double
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var logLoss: Double
    public var brier: Double
    public var ece: Double
    public var mce: Double
    /// AUC of `confidence` as a score for "the direction call was right" (NaN without confidences).
    public var confidenceAUC: Double
    /// AUC of the concentration alpha + beta as a score for "the direction call was right" (NaN without them):
    /// whether the Beta's total evidence separates right from wrong calls, whatever p is.
    public var concentrationAUC: Double

    public init(p: [Double], y: [Int], confidence: [Double]? = nil, concentration: [Double]? = nil) {
        precondition(p.count == y.count, "one probability per label")
        count = p.count
        let calls = p.map { $0 > 0.5 ? 1 : 0 }
        var tp = 0, fp = 0, fn = 0, right = 0
        for (c, t) in zip(calls, y) {
            if c == t { right += 1 }
            if c == 1 && t == 1 { tp += 1 } else if c == 1 { fp += 1 } else if t == 1 { fn += 1 }
        }
        accuracy = p.isEmpty ? .nan : Double(right) / Double(p.count)
        precision = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp)
        recall = tp + fn == 0 ? 0 : Double(tp) / Double(tp + fn)
        f1 = 2 * tp + fp + fn == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn)
        logLoss = Self.logLoss(p: p, y: y)
        brier = p.isEmpty ? .nan : zip(p, y).reduce(0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) } / Double(p.count)
        let bins = Self.reliability(p: p, y: y)
        ece = p.isEmpty ? .nan : bins.reduce(0) { $0 + Double($1.count) * abs($1.meanP - $1.frequency).nanToZero } / Double(p.count)
        mce = bins.filter { $0.count > 0 }.map { abs($0.meanP - $0.frequency) }.max() ?? .nan
        if let confidence {
            confidenceAUC = Self.auc(score: confidence, outcome: zip(calls, y).map { $0 == $1 ? 1 : 0 })
        } else {
            confidenceAUC = .nan
        }
        concentrationAUC = concentration.map { Self.auc(score: $0, outcome: zip(calls, y).map { $0 == $1 ? 1 : 0 }) } ?? .nan
    }

    /// Mean log loss with sklearn's clipping (one definition, shared with the calibrators' fits).
    public static func logLoss(p: [Double], y: [Int]) -> Double { ProbabilityCalibration.logLoss(p: p, y: y) }

    /// One bin of the reliability diagram: [lower, upper) of p (the last bin includes 1).
    public struct Bin: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// Mean p of the bin's samples (NaN when empty).
        public var meanP: Double
        /// Share of the bin's samples labelled up (NaN when empty).
        public var frequency: Double
    }

    /// The 10 equal-width bins of p with their counts, mean p and observed frequency of "up".
    public static func reliability(p: [Double], y: [Int], bins: Int = 10) -> [Bin] {
        var n = [Int](repeating: 0, count: bins), sp = [Double](repeating: 0, count: bins), sy = sp
        for (q, t) in zip(p, y) {
            let b = min(max(Int(q * Double(bins)), 0), bins - 1)
            n[b] += 1; sp[b] += q; sy[b] += Double(t)
        }
        return (0 ..< bins).map { b in
            Bin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: n[b],
                meanP: n[b] == 0 ? .nan : sp[b] / Double(n[b]), frequency: n[b] == 0 ? .nan : sy[b] / Double(n[b]))
        }
    }

    /// ROC AUC of `score` for the binary `outcome` (1 positive): (Σ ranks of positives − n₊(n₊+1)/2) / (n₊ n₋) with
    /// average ranks for ties; NaN when either class is absent.
    public static func auc(score: [Double], outcome: [Int]) -> Double {
        let n = score.count
        let positives = outcome.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }, negatives = n - positives
        guard positives > 0, negatives > 0 else { return .nan }
        let order = (0 ..< n).sorted { score[$0] < score[$1] }
        var rankSum = 0.0, i = 0
        while i < n {
            var j = i
            while j + 1 < n && score[order[j + 1]] == score[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i ... j where outcome[order[k]] == 1 { rankSum += rank }
            i = j + 1
        }
        return (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
    }
}

extension Double {
    var nanToZero: Double { isNaN ? 0 : self }
}
