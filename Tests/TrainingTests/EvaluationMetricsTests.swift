import Common
import Foundation
import Testing
@testable import Training

/// ClassificationMetrics against scikit-learn 1.9.1 / numpy (tools/reference/evaluation_fixtures.py).
///
/// Tolerances: accuracy, precision, recall and F1 are ratios of the same integer counts, so equal exactly. Log loss,
/// Brier, ECE, the bins' means and the AUC are sums of at most 400 terms of size ≤ ~5 accumulated in another order
/// (numpy's pairwise sums, sklearn's trapezoids vs the rank-sum formula): the difference is bounded by
/// n·ε·max|term| ≈ 400 · 1.1e-16 · 5 ≈ 2e-13, so 1e-12 absolute.
@Suite struct EvaluationMetricsTests {
    struct Bin: Decodable { var count: Int; var mean_p: Double?; var frequency: Double? }
    struct Case: Decodable {
        var name: String
        var p: [Double]
        var y: [Int]
        var confidence: [Double]
        var concentration: [Double]
        var accuracy, precision, recall, f1, log_loss, brier, ece, mce: Double
        var bins: [Bin]
        var confidence_auc: Double?
        var concentration_auc: Double?
    }
    struct File: Decodable { var sklearn: String; var cases: [Case] }

    static func fixture() throws -> File {
        let url = Bundle.module.url(forResource: "Fixtures/evaluation_sklearn", withExtension: "json")!
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    @Test func figuresMatchScikitLearn() throws {
        let file = try Self.fixture()
        #expect(file.sklearn == "1.9.1" && file.cases.count == 4)
        for c in file.cases {
            let m = ClassificationMetrics(p: c.p, y: c.y, confidence: c.confidence, concentration: c.concentration)
            #expect(m.accuracy == c.accuracy, "\(c.name) accuracy")
            #expect(m.precision == c.precision, "\(c.name) precision")
            #expect(m.recall == c.recall, "\(c.name) recall")
            #expect(m.f1 == c.f1, "\(c.name) f1")
            #expect(abs(m.logLoss - c.log_loss) <= 1e-12, "\(c.name) log loss \(m.logLoss) vs \(c.log_loss)")
            #expect(abs(m.brier - c.brier) <= 1e-12, "\(c.name) brier")
            #expect(abs(m.ece - c.ece) <= 1e-12, "\(c.name) ece")
            #expect(abs(m.mce - c.mce) <= 1e-12, "\(c.name) mce")
            if let auc = c.confidence_auc { #expect(abs(m.confidenceAUC - auc) <= 1e-12, "\(c.name) auc") }
            else { #expect(m.confidenceAUC.isNaN) }
            if let auc = c.concentration_auc { #expect(abs(m.concentrationAUC - auc) <= 1e-12, "\(c.name) concentration auc") }
            else { #expect(m.concentrationAUC.isNaN) }
            let bins = ClassificationMetrics.reliability(p: c.p, y: c.y)
            #expect(bins.map(\.count) == c.bins.map(\.count), "\(c.name) bin counts")
            for (b, r) in zip(bins, c.bins) {
                if let mp = r.mean_p, let fr = r.frequency {
                    #expect(abs(b.meanP - mp) <= 1e-12 && abs(b.frequency - fr) <= 1e-12, "\(c.name) bin \(b.lower)")
                } else { #expect(b.meanP.isNaN && b.frequency.isNaN) }
            }
        }
    }

    @Test func aucOfHandmadeScoresCountsTiesAsHalf() {
        // Positives score 3, 2; negatives 2, 1: pairs (3>2), (3>1), (2=2 → ½), (2>1) → 3.5 / 4.
        #expect(ClassificationMetrics.auc(score: [3, 2, 2, 1], outcome: [1, 1, 0, 0]) == 0.875)
        #expect(ClassificationMetrics.auc(score: [1, 2], outcome: [1, 1]).isNaN)
    }

    @Test func bootstrapIntervalsAreSeededAndCoverTheEstimate() {
        // 10 days of 24 hourly samples.
        let ts = (0 ..< 240).map { Int64($0) * 3_600_000 }
        let values = (0 ..< 240).map { Double($0 % 7) }
        let a = DayBlockBootstrap(timestamps: ts, resamples: 200, seed: 3), b = DayBlockBootstrap(timestamps: ts, resamples: 200, seed: 3)
        #expect(a.days == 10 && a.resamples == b.resamples)
        #expect(a.resamples.allSatisfy { $0.count == 240 })   // every day has 24 samples
        let mean: ([Int]) -> Double = { rows in rows.reduce(0) { $0 + values[$1] } / Double(rows.count) }
        let (lo, hi) = a.interval(mean)
        let full = mean(Array(0 ..< 240))
        #expect(lo <= full && full <= hi && lo < hi)
        #expect(DayBlockBootstrap.percentile([1, 2, 3, 4], 0.5) == 2.5)   // numpy.percentile([1,2,3,4], 50)
        #expect(DayBlockBootstrap.pValue(observed: 1, resampled: [1, 2, -1, 0]) == 1)      // 2 · 2/4
        #expect(DayBlockBootstrap.pValue(observed: 1, resampled: [1, 2, 3, -1]) == 0.5)    // 2 · 1/4
    }

    /// A forecast calibrated exactly on the sample (p = 0.3 on 60 samples with 18 ups, p = 0.7 on 60 with 42 ups,
    /// spread over 30 days of 2 to 6 samples): the plug-in ECE is 0, every day-block resample's is positive
    /// (resampling days moves the frequencies off 0.3 / 0.7), so the percentile interval excludes the estimate —
    /// the bias this fixes. The bias-corrected estimate lies inside its basic interval, and the reported figures
    /// say so.
    @Test func eceIsReportedBiasCorrectedInsideItsInterval() {
        var p: [Double] = [], y: [Int] = [], ts: [Int64] = []
        var downSide = 0, upSide = 0
        for day in 0 ..< 30 {
            for _ in 0 ..< 1 + day % 3 {
                p.append(0.3); y.append(downSide % 10 < 3 ? 1 : 0); downSide += 1
                ts.append(Int64(day) * 86_400_000 + Int64(p.count))
                p.append(0.7); y.append(upSide % 10 < 7 ? 1 : 0); upSide += 1
                ts.append(Int64(day) * 86_400_000 + Int64(p.count))
            }
        }
        let n = p.count
        let boot = DayBlockBootstrap(timestamps: ts, resamples: 400, seed: 9)
        let plugin = ClassificationMetrics(p: p, y: y).ece
        let draws = boot.resamples.map { rows in ClassificationMetrics(p: rows.map { p[$0] }, y: rows.map { y[$0] }).ece }
        let (lo, _) = DayBlockBootstrap.percentileInterval(draws)
        #expect(n == 120 && plugin < 1e-15)
        #expect(lo > plugin, "the percentile interval [\(lo), …] excludes the plug-in ECE \(plugin) (the bias this fixes)")
        let (corrected, low, high) = Evaluation.biasCorrected(plugin, draws: draws)
        #expect(corrected < plugin && low <= max(0, corrected) && max(0, corrected) <= high && low == 0)
        let example = Evaluation.biasCorrected(0.05, draws: [0.07, 0.08, 0.06])   // the doc comment's example
        #expect(abs(example.estimate - 0.03) < 1e-15 && abs(example.low - 0.0205) < 1e-15 && abs(example.high - 0.0395) < 1e-15)
        // Through Evaluation.figures: `ece` is the corrected value inside its interval, `ece_plugin` the plain one.
        let rows = (0 ..< n).map { i in
            EvaluatedSample(timestamp: ts[i], pUp: p[i], pUpCalibrated: p[i], alpha: 2 * p[i], beta: 2 * (1 - p[i]),
                            confidence: 0.5, label: y[i], forwardReturn: 0, nextReturn: 0)
        }
        let model = Forecast(name: "model", p: p, probabilistic: true, directional: true, positions: SignalBacktest.signPositions(p))
        let base = Forecast(name: "base_rate", p: [Double](repeating: 0.5, count: n), probabilistic: true, directional: false, positions: nil)
        let up = Forecast(name: "always_up", p: [Double](repeating: 1, count: n), probabilistic: false, directional: true,
                          positions: [Double](repeating: 1, count: n))
        var options = Evaluation.Options()
        options.resamples = 400
        options.seed = 9
        let f = Evaluation(options: options).figures(model: model, baselines: [up, base], samples: rows, annualization: 252)
        let ece = f.metrics["model"]?["ece"]
        #expect(f.metrics["model"]?["ece_plugin"]?.value == plugin && f.metrics["model"]?["ece_plugin"]?.low == nil)
        if let v = ece?.value, let l = ece?.low, let h = ece?.high { #expect(l <= v && v <= h && v == 0) }
        else { Issue.record("no ece interval") }
        #expect(f.pairedTests.map { "\($0.metric) \($0.baseline)" }
            == ["accuracy always_up", "log_loss base_rate", "ece base_rate", "confidence_auc chance", "concentration_auc chance"])
    }
}
