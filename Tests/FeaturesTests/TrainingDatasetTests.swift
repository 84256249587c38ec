import Common
import Foundation
import MarketData
import Testing
@testable import Features

@Suite struct TrainingDatasetTests {
    static let bars = TestData.randomWalk(count: 1500, seed: 21)
    static let set = FeatureSet(model: .shortTerm,
                                features: ["rsi_14", "logret_1", "bbands_pctb_20_2", "natr_14"].map {
                                    FeatureSpec(indicator: try! IndicatorRequest(parsing: $0))
                                },
                                label: LabelSpec(horizon: 5, deadZone: 0.001, tripleBarrier: .init(upper: 1.5, lower: 1.5, volatilityWindow: 20)))

    @Test func samplesStartAfterTheWarmupAndWindowsAreTheMatrixRows() throws {
        let data = try TrainingDataset(bars: Self.bars, featureSet: Self.set, window: 16)
        #expect(data.firstRow == 20)   // bbands 19, rsi/natr 14, barrier volatility 20
        #expect(data.samples.first! >= data.firstRow + 15)
        #expect(data.samples.last! <= Self.bars.count - 1 - 5)
        #expect(!data.matrix[(data.firstRow * 4)...].contains { $0.isNaN })
        var seen = 0
        data.forEachBatch(.validation, batchSize: 7) { batch in
            #expect(batch.inputs.count == batch.count * 16 * 4)
            for (b, t) in batch.bars.enumerated() {
                let expected = data.window(endingAt: t)!
                #expect(Array(batch.inputs[(b * 64)..<((b + 1) * 64)]) == expected)
                let r = log(Self.bars.close[t + 5] / Self.bars.close[t])
                #expect(abs(Double(batch.forwardReturn[b]) - r) < 1e-6)
                #expect(batch.direction[b] == (r > 0.001 ? 1 : 0))
                #expect(abs(r) > 0.001)   // dead-zone samples are left out
                #expect(batch.close[b * 16 + 15] == 0)
                #expect([-1, 0, 1].contains(batch.barrier[b]))
            }
            seen += batch.count
        }
        #expect(seen == data.split.validation.count)
    }

    @Test func splitsArePurgedAndEmbargoed() throws {
        let data = try TrainingDataset(bars: Self.bars, featureSet: Self.set, window: 16, embargo: 10)
        let s = data.split
        #expect(!s.train.isEmpty && !s.validation.isEmpty && !s.test.isEmpty)
        // No label window of a split reaches the next split's first feature window ...
        #expect(s.train.last! + 5 < s.validation.first! - 15)
        #expect(s.validation.last! + 5 < s.test.first! - 15)
        // ... and the next split starts `embargo` bars after its first candidate.
        let candidatesAfterTrain = data.samples.filter { $0 > s.train.last! + 5 + 15 }
        #expect(s.validation.first! >= candidatesAfterTrain.first! + 10)
        #expect(Set(s.train).isDisjoint(with: s.validation) && Set(s.validation).isDisjoint(with: s.test))

        let folds = ChronologicalSplit.walkForward(samples: data.samples, folds: 4, window: 16, horizon: 5, embargo: 5)
        #expect(folds.count == 4)
        for (k, fold) in folds.enumerated() {
            #expect(fold.train.last! + 5 < fold.validation.first! - 15, "fold \(k) purge")
            if k > 0 { #expect(fold.train.count > folds[k - 1].train.count, "expanding window") }
        }
        let rolling = ChronologicalSplit.walkForward(samples: data.samples, folds: 4, window: 16, horizon: 5, expanding: false)
        #expect(rolling[3].train.first! > rolling[0].train.last!)
    }

    @Test func walkForwardFoldsFollowTheDocumentedLayout() {
        // The worked example of `ChronologicalSplit.walkForwardFold`.
        let ex = ChronologicalSplit.walkForward(samples: Array(0..<100), folds: 2, window: 1, horizon: 2, initial: 0.5,
                                                validation: 0.2, embargo: 2)
        #expect(ex[0].train == Array(0...37) && ex[0].validation == Array(42...47) && ex[0].test == Array(52...74))
        #expect(ex[1].train == Array(0...57) && ex[1].validation == Array(62...72) && ex[1].test == Array(77...99))
    }

    @Test func walkForwardTestBlocksAreDisjointOrderedAndNoTrainingLabelReachesThem() throws {
        let data = try TrainingDataset(bars: Self.bars, featureSet: Self.set, window: 16)
        let l = 16, h = 5
        for k in [2, 3, 5] {
            for embargo in [0, 5, 12] {
                let folds = ChronologicalSplit.walkForward(samples: data.samples, folds: k, window: l, horizon: h, initial: 0.4,
                                                           validation: 0.2, embargo: embargo)
                #expect(folds.count == k)
                for (i, f) in folds.enumerated() {
                    #expect(!f.train.isEmpty && !f.validation.isEmpty && !f.test.isEmpty, "fold \(i)")
                    // Expanding: every sample before the validation tail but the purged ones trains; the tail is contiguous.
                    #expect(f.train == Array(data.samples.prefix { $0 <= f.train.last! }), "fold \(i) train")
                    #expect(f.validation == data.samples.filter { (f.validation.first!...f.validation.last!).contains($0) })
                    // Every later fold's test block starts after this fold's; bars a test block's windows and labels
                    // use: [first − L + 1, last + H]. No training or validation label window (t, t + H] reaches them.
                    let testBars = (f.test.first! - l + 1)...(f.test.last! + h)
                    for t in f.train + f.validation { #expect(t + h < testBars.lowerBound, "fold \(i) sample \(t)") }
                    #expect(f.train.last! + h < f.validation.first! - l + 1, "fold \(i) train → validation purge")
                    #expect(f.test.first! >= data.samples.first { $0 > f.validation.last! + h + l - 1 }! + embargo)
                    if i > 0 {
                        let before = folds[i - 1]
                        #expect(before.test.last! < f.test.first!, "test blocks ordered and disjoint")
                        #expect(f.train.count > before.train.count, "expanding window")
                    }
                }
                // Together the blocks cover the samples after the initial share but each block's embargo.
                let a = Int(Double(data.samples.count) * 0.4)
                let tested = folds.flatMap(\.test)
                #expect(tested == tested.sorted() && Set(tested).count == tested.count)
                #expect(tested.last == data.samples.last && tested.first! >= data.samples[a])
                #expect(data.samples[a...].count - tested.count <= k * embargo)
            }
        }
    }

    @Test func eachWalkForwardFoldsScalerSeesOnlyRowsBeforeItsValidation() throws {
        let frame = Self.set.compute(Self.bars)
        let close = Self.bars.close.array, high = Self.bars.high.array, low = Self.bars.low.array
        for k in 0..<3 {
            let data = try TrainingDataset(frame: frame, close: close, high: high, low: low, label: Self.set.label, window: 16,
                                           fractions: (0.5, 0.1), embargo: 5, walkForward: (k, 3))
            let s = data.split
            let validationStart = s.validation.first! - 15   // the first validation window's first row
            #expect(FeatureScaler.fit(frame, rows: (s.train.first! - 15)..<(s.train.last! + 1)) == data.scaler)
            #expect(s.train.last! < validationStart)
            // Anything at or after the validation start (validation, test, later folds) leaves the scaler unchanged.
            var changed = frame
            for c in changed.columns.indices { for i in validationStart..<changed.count { changed.columns[c][i] *= 3 } }
            let other = try TrainingDataset(frame: changed, close: close, high: high, low: low, label: Self.set.label, window: 16,
                                            fractions: (0.5, 0.1), embargo: 5, walkForward: (k, 3))
            #expect(other.scaler == data.scaler && other.split == s, "fold \(k)")
            if k > 0 {
                let before = try TrainingDataset(frame: frame, close: close, high: high, low: low, label: Self.set.label, window: 16,
                                                 fractions: (0.5, 0.1), embargo: 5, walkForward: (k - 1, 3))
                #expect(before.scaler != data.scaler, "each fold fits its own scaler")
            }
        }
    }

    @Test func scalerIsFittedOnTrainingRowsOnlyAndRoundTrips() throws {
        let data = try TrainingDataset(bars: Self.bars, featureSet: Self.set, window: 16)
        let frame = Self.set.compute(Self.bars)
        let rows = (data.split.train.first! - 15)..<(data.split.train.last! + 1)
        let rsi = Array(frame.columns[0][rows])
        let mean = rsi.reduce(0, +) / Double(rsi.count)
        #expect(abs(data.scaler.center[0] - mean) < 1e-9)
        // Changing everything after the training rows leaves the scaler unchanged.
        var changed = frame
        for k in changed.columns.indices { for i in rows.upperBound..<changed.count { changed.columns[k][i] *= 3 } }
        let other = try TrainingDataset(frame: changed, close: Self.bars.close.array, high: Self.bars.high.array,
                                        low: Self.bars.low.array, label: Self.set.label, window: 16)
        #expect(other.scaler == data.scaler)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scaler-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try data.scaler.save(to: path)
        let loaded = try FeatureScaler.load(from: path)
        #expect(loaded == data.scaler)
        // Inference re-applies the saved scaler: the latest window equals the training matrix's last window.
        let live = try InferenceWindow.latest(bars: Self.bars, featureSet: Self.set, scaler: loaded, window: 16)
        #expect(live == data.window(endingAt: Self.bars.count - 1)!)

        let robust = FeatureScaler.fit(frame, rows: rows, method: .robust)
        let sorted = rsi.sorted()
        #expect(robust.center[0] == FeatureScaler.quantile(sorted, 0.5))
    }

    @Test func onlyTrainingBatchesAreShuffledAndShufflesAreSeeded() throws {
        let data = try TrainingDataset(bars: Self.bars, featureSet: Self.set, window: 16)
        let a = data.order(.train, seed: 1, epoch: 0), b = data.order(.train, seed: 1, epoch: 0)
        let c = data.order(.train, seed: 1, epoch: 1)
        #expect(a == b && a != c && a.sorted() == data.split.train)
        #expect(data.order(.test, seed: 1) == data.split.test)
        #expect(data.order(.validation, seed: 9) == data.split.validation)
        var bars: [Int] = []
        data.forEachBatch(.train, batchSize: 32, seed: 1, dropLast: true) { bars += $0.bars; #expect($0.count == 32) }
        #expect(bars == Array(a.prefix(bars.count)) && bars.count == (a.count / 32) * 32)
    }

    @Test func tooFewBarsIsAnExplainedError() {
        #expect(throws: FeatureError.self) {
            try TrainingDataset(bars: Self.bars[0..<40], featureSet: Self.set, window: 16)
        }
    }
}
