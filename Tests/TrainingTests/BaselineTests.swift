import Features
import Foundation
import Testing
@testable import Training

/// The baselines on a handmade series whose answers are counted by hand.
@Suite struct BaselineTests {
    /// 40 hourly bars; close alternates two up moves and one down move; one feature = +1 before an up move, −1 before
    /// a down move (so the logistic baseline can learn the label from it).
    static func dataset() throws -> TrainingDataset {
        var close = [1.0]
        for i in 1 ..< 40 { close.append(close[i - 1] * (i % 3 == 0 ? 0.99 : 1.01)) }
        let up = (0 ..< 40).map { t in t + 1 < 40 && close[t + 1] > close[t] ? 1.0 : -1.0 }
        let frame = FeatureFrame(timestamps: (0 ..< 40).map { Int64($0) * 3_600_000 }, names: ["next_up"], columns: [up])
        return try TrainingDataset(frame: frame, close: close, high: close, low: close, label: LabelSpec(horizon: 1),
                                   window: 1, fractions: (0.5, 0.25), embargo: 0)
    }

    @Test func definitionsOnAHandmadeSeries() throws {
        let d = try Self.dataset()
        let test = d.samples(.test)
        let b = Baselines(dataset: d, samples: test)
        #expect(b.forecasts.map(\.name) == ["always_up", "previous_return", "logistic", "base_rate"])
        // base rate: share of up labels in the training samples.
        let ups = d.split.train.filter { d.labels.direction[$0] == 1 }.count
        #expect(b.baseRate == Double(ups) / Double(d.split.train.count))
        #expect(b.forecasts[0].p.allSatisfy { $0 == 1 })
        // previous return over the label horizon (1 bar): up when c[t] > c[t−1].
        #expect(b.forecasts[1].p == test.map { d.close[$0] > d.close[$0 - 1] ? 1 : 0 })
        // The feature tells the label: the fitted logistic regression calls every test sample right.
        let lr = b.forecasts[2].p
        #expect(zip(lr, test).allSatisfy { ($0 > 0.5) == (d.labels.direction[$1] == 1) })
        #expect(b.logistic.weights[0] > 0)
        #expect(b.forecasts[3].p.allSatisfy { $0 == b.baseRate } && !b.forecasts[3].directional)
    }

    @Test func logisticRegressionReachesTheRegularisedOptimum() {
        // First-order optimality of Σ log-loss + λ/2 ‖w‖²: X'(p − y) + λ w = 0 (intercept unpenalised).
        let x: [[Double]] = [[0.5, -1], [1.5, 0.2], [-0.3, 0.8], [2.0, -0.4], [-1.2, -0.9], [0.1, 1.7], [0.9, 0.3]]
        let y = [1, 1, 0, 1, 0, 0, 1]
        let lr = LogisticRegression.fit(x: x, y: y, lambda: 0.5)
        var g = [0.0, 0.5 * lr.weights[0], 0.5 * lr.weights[1]]
        for (row, label) in zip(x, y) {
            let r = lr.probability(row) - Double(label)
            g[0] += r; g[1] += r * row[0]; g[2] += r * row[1]
        }
        #expect(g.allSatisfy { abs($0) < 1e-10 }, "gradient \(g)")
        #expect(lr.iterations < 20)
    }

    @Test func tradingFromPositionsCompoundsAndPaysCommissionOnChanges() {
        // +1, +1, −1 on returns 1 %, −2 %, −1 % with 10 bps per unit traded: trades 1, 0, 2.
        let s = SignalBacktest(name: "x", positions: [1, 1, -1], returns: [0.01, -0.02, -0.01], times: [0, 1, 2],
                               commission: 0.001, annualization: 252)
        let e1 = 1 + 0.01 - 0.001, e2 = e1 * (1 - 0.02), e3 = e2 * (1 + 0.01 - 0.002)
        #expect(abs(s.equity[2] - e3) < 1e-15 && abs(s.totalReturn - (e3 - 1)) < 1e-15)
        #expect(s.turnover == 3 && s.exposure == 1)
        #expect(abs(s.hitRate - 2.0 / 3) < 1e-15)
        #expect(s.maxDrawdown < 0)
    }
}
