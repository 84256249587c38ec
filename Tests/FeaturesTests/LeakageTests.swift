import Foundation
import MarketData
import Testing
@testable import Features

/// The leakage test: on a random walk nothing about the future is knowable, so any model that beats chance on
/// the test split must be reading the future through the pipeline.
///
/// The data carry an "oracle" column: at row j, the direction of the price move over (j − H, j] — a legitimate,
/// causal feature. The label of the sample at bar t is the direction over (t, t + H], which is exactly the oracle
/// at row t + H. So the future is encoded in the feature matrix in a way only look-ahead can exploit: a window
/// reaching past t, a label aligned to the wrong bar, or a non-causal indicator would all let a model read it.
///
/// The "model" is deliberately strong at finding such leaks: over every (lag, feature) position of the window and
/// both signs, pick the rule "predict up when the scaled value > 0" with the best training accuracy, then score it
/// on the test split. Failure = test accuracy above chance by more than 3 standard errors. A negative control runs
/// the same harness on a frame with a deliberately leaked column and must detect it.
@Suite struct LeakageTests {
    static let horizon = 4, window = 12

    static func frame(bars: BarSeries, leak: Bool) throws -> FeatureFrame {
        let set = try FeatureSet.load(model: .mediumTerm, directory: TestData.root.appendingPathComponent("configs/features").path)
        var frame = set.compute(bars)
        let c = bars.close
        let h = horizon
        var oracle = [Double](repeating: .nan, count: bars.count)
        for j in h..<bars.count { oracle[j] = c[j] > c[j - h] ? 1 : -1 }
        frame.append(name: "oracle", values: oracle, lookback: h)
        if leak {
            // A look-ahead feature (what a centred/shifted indicator or a misaligned join would produce).
            var future = [Double](repeating: .nan, count: bars.count)
            for j in 0..<(bars.count - h) { future[j] = c[j + h] > c[j] ? 1 : -1 }
            future[(bars.count - h)...].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            frame.append(name: "future", values: future, lookback: 0)
        }
        return frame
    }

    /// Best single-position sign rule chosen on train; returns (train accuracy, test accuracy, test count).
    static func bestRule(_ data: TrainingDataset) -> (train: Double, test: Double, n: Int) {
        let positions = data.window * data.featureCount
        func votes(_ part: TrainingDataset.Part) -> (hits: [Int], n: Int) {
            var hits = [Int](repeating: 0, count: positions)
            var n = 0
            data.forEachBatch(part, batchSize: 256) { batch in
                for b in 0..<batch.count {
                    let up = batch.direction[b] == 1
                    let base = b * positions
                    for p in 0..<positions where (batch.inputs[base + p] > 0) == up { hits[p] += 1 }
                }
                n += batch.count
            }
            return (hits, n)
        }
        let train = votes(.train), test = votes(.test)
        var best = (accuracy: 0.0, position: 0, flipped: false)
        for p in 0..<positions {
            let a = Double(train.hits[p]) / Double(train.n)
            if a > best.accuracy { best = (a, p, false) }
            if 1 - a > best.accuracy { best = (1 - a, p, true) }
        }
        let testAccuracy = Double(test.hits[best.position]) / Double(test.n)
        return (best.accuracy, best.flipped ? 1 - testAccuracy : testAccuracy, test.n)
    }

    static func dataset(seed: UInt64, leak: Bool) throws -> TrainingDataset {
        let bars = TestData.randomWalk(count: 5000, seed: seed)
        let frame = try frame(bars: bars, leak: leak)
        return try TrainingDataset(frame: frame, close: bars.close.array, high: bars.high.array, low: bars.low.array,
                                   label: LabelSpec(horizon: horizon), window: window, fractions: (0.6, 0.1))
    }

    @Test(arguments: [UInt64(101), 202])
    func nothingBeatsChanceOnTest(seed: UInt64) throws {
        let data = try Self.dataset(seed: seed, leak: false)
        let rule = Self.bestRule(data)
        let bound = 0.5 + 3 * (0.25 / Double(rule.n)).squareRoot()
        #expect(rule.n > 1000)
        #expect(rule.test <= bound, "test accuracy \(rule.test) above chance bound \(bound): the pipeline leaks the future")
        print("leakage test seed \(seed): best train rule \(rule.train), its test accuracy \(rule.test) (bound \(bound), n \(rule.n))")
    }

    /// Negative control: the harness has the power to see a leak.
    @Test func harnessDetectsALeakedColumn() throws {
        let data = try Self.dataset(seed: 303, leak: true)
        let rule = Self.bestRule(data)
        #expect(rule.test > 0.95, "the leak detector failed to notice a look-ahead column (test accuracy \(rule.test))")
    }
}
