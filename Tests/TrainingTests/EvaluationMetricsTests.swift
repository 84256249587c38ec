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
        var accuracy, precision, recall, f1, log_loss, brier, ece, mce: Double
        var bins: [Bin]
        var confidence_auc: Double?
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
            let m = ClassificationMetrics(p: c.p, y: c.y, confidence: c.confidence)
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
}
