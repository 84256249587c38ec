import Common
import Foundation
import MarketData

/// Windows of scaled features with their labels, split chronologically, for training the horizon models.
///
/// Built from bars and a feature set: the warm-up rows (largest indicator lookback) are dropped, never filled;
/// a sample at bar t is the window of feature rows [t − L + 1, t] with the labels of (t, t + H]; samples are split
/// train / validation / test in time order with purging and an embargo (`ChronologicalSplit`); the scaler is
/// fitted on the rows the training windows cover and nothing later.
///
/// Batches are plain Float buffers, `inputs` laid out (B, L, F) row-major, so an engine moves a batch to a device
/// in one host-to-device copy. The batch buffers are allocated once per pass and refilled (one memcpy per
/// sample: a window is contiguous in the feature matrix).
///
///     let set = try FeatureSet.load(model: .mediumTerm)
///     let data = try TrainingDataset(bars: bars, featureSet: set, window: 96)
///     try data.scaler.save(to: "checkpoints/medium_term/scaler.json")
///     data.forEachBatch(.train, batchSize: 64, seed: 7, epoch: 0) { batch in
///         engine.copyToDevice(batch.inputs)      // B·L·F floats
///     }
public struct TrainingDataset: Sendable {
    public enum Part: String, Sendable { case train, validation, test }

    public let featureNames: [String]
    public let window: Int
    public let horizon: Int
    public var featureCount: Int { featureNames.count }
    public let timestamps: [Int64]
    /// Scaled features, row-major (bars × F); rows before `firstRow` are NaN.
    public let matrix: [Float]
    /// The first bar where every feature (and the label's history) is defined.
    public let firstRow: Int
    public let close: [Double]
    public let labels: Labels
    /// Every usable sample bar t, increasing.
    public let samples: [Int]
    public let split: ChronologicalSplit
    public let scaler: FeatureScaler

    /// - Parameters:
    ///   - clip: the fitted scaler's clip (±clip after scaling).
    ///   - fractions: train and validation shares of the samples; test gets the rest.
    ///   - embargo: bars dropped after each split boundary (default: the label horizon).
    ///   - scaler: a saved scaler to apply instead of fitting one (inference, evaluation of a trained model).
    ///   - walkForward: fold k of K walk-forward folds instead of one train / validation / test split
    ///     (`ChronologicalSplit.walkForwardFold`): the first test block starts after the `fractions.train` share of
    ///     the samples, and each fold's validation tail is the `fractions.validation / (train + validation)` share
    ///     of the samples before its test block. The scaler is fitted on that fold's training rows only.
    public init(bars: BarSeries, featureSet: FeatureSet, window: Int, fractions: (train: Double, validation: Double) = (0.7, 0.15),
                embargo: Int? = nil, scaling: FeatureScaler.Method = .zScore, scaler fitted: FeatureScaler? = nil,
                walkForward: (fold: Int, folds: Int)? = nil)
        throws(FeatureError)
    {
        try self.init(frame: featureSet.compute(bars), close: bars.close.array, high: bars.high.array, low: bars.low.array,
                      label: featureSet.label, window: window, fractions: fractions, embargo: embargo, scaling: scaling,
                      scaler: fitted, walkForward: walkForward)
    }

    /// The same from a computed feature frame and the bars' close/high/low.
    public init(frame: FeatureFrame, close: [Double], high: [Double], low: [Double], label: LabelSpec, window: Int,
                fractions: (train: Double, validation: Double) = (0.7, 0.15), embargo: Int? = nil,
                scaling: FeatureScaler.Method = .zScore, clip: Double = 10, scaler fitted: FeatureScaler? = nil,
                walkForward: (fold: Int, folds: Int)? = nil)
        throws(FeatureError)
    {
        guard window >= 1 else { throw FeatureError(reason: "window length must be >= 1, got \(window)") }
        let n = frame.count
        self.featureNames = frame.names
        self.window = window
        self.horizon = label.horizon
        self.timestamps = frame.timestamps
        self.close = close
        self.labels = Labels(close: close, high: high, low: low, spec: label)
        self.firstRow = max(frame.maxLookback, label.lookback)
        var samples: [Int] = []
        let lastSample = n - 1 - label.horizon
        if firstRow + window - 1 <= lastSample {
            for t in (firstRow + window - 1)...lastSample where !labels.direction[t].isNaN {
                if let barrier = labels.barrier, barrier[t].isNaN { continue }
                samples.append(t)
            }
        }
        guard samples.count >= 3 else {
            throw FeatureError(reason: "only \(samples.count) usable samples from \(n) bars (warm-up \(firstRow), "
                + "window \(window), horizon \(label.horizon)); need more bars")
        }
        self.samples = samples
        if let wf = walkForward {
            guard wf.folds >= 1, (0..<wf.folds).contains(wf.fold), fractions.train > 0, fractions.train < 1,
                  fractions.validation >= 0 else {
                throw FeatureError(reason: "walk-forward fold \(wf.fold) of \(wf.folds) with initial share \(fractions.train) "
                    + "is not a valid fold")
            }
            self.split = ChronologicalSplit.walkForwardFold(
                wf.fold, of: wf.folds, samples: samples, window: window, horizon: label.horizon, initial: fractions.train,
                validation: fractions.validation / (fractions.train + fractions.validation), embargo: embargo ?? label.horizon)
        } else {
            self.split = ChronologicalSplit.make(samples: samples, window: window, horizon: label.horizon,
                                                 fractions: fractions, embargo: embargo ?? label.horizon)
        }
        guard let firstTrain = split.train.first, let lastTrain = split.train.last else {
            throw FeatureError(reason: "the training split is empty after purging; use more bars or a larger train fraction")
        }
        let scaler = fitted ?? FeatureScaler.fit(frame, rows: (firstTrain - window + 1)..<(lastTrain + 1), method: scaling,
                                                   clip: clip)
        self.scaler = scaler
        self.matrix = try scaler.matrix(frame)
    }

    public func samples(_ part: Part) -> [Int] {
        switch part {
        case .train: split.train
        case .validation: split.validation
        case .test: split.test
        }
    }

    /// Sample order for one pass: chronological, or — for the training part only — a seeded shuffle that differs
    /// per epoch. Validation and test are never shuffled.
    public func order(_ part: Part, seed: UInt64? = nil, epoch: Int = 0) -> [Int] {
        var order = samples(part)
        guard part == .train, let seed else { return order }
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        order.shuffle(using: &rng)
        return order
    }

    /// One batch, valid only inside the `forEachBatch` callback (the buffers are reused for the next batch).
    public struct Batch {
        public let count: Int
        public let window: Int
        public let features: Int
        /// (count, window, features) row-major.
        public let inputs: UnsafeBufferPointer<Float>
        /// 1 up / 0 down.
        public let direction: UnsafeBufferPointer<Float>
        public let forwardReturn: UnsafeBufferPointer<Float>
        /// +1 / −1 / 0 triple-barrier labels (empty when not configured).
        public let barrier: UnsafeBufferPointer<Float>
        /// (count, window): ln(close / close at the window's last bar), the long_term model's `close` input.
        public let close: UnsafeBufferPointer<Float>
        /// The bar index t of each sample.
        public let bars: ArraySlice<Int>
    }

    /// Calls `body` with consecutive batches of `part` (the last one may be smaller unless `dropLast`).
    public func forEachBatch(_ part: Part, batchSize: Int, seed: UInt64? = nil, epoch: Int = 0, dropLast: Bool = false,
                             _ body: (Batch) throws -> Void) rethrows {
        precondition(batchSize >= 1, "batch size must be >= 1")
        let order = self.order(part, seed: seed, epoch: epoch)
        let f = featureCount, l = window, rowFloats = l * f
        var inputs = [Float](repeating: 0, count: batchSize * rowFloats)
        var direction = [Float](repeating: 0, count: batchSize), forward = direction
        var barrier = [Float](repeating: 0, count: labels.barrier == nil ? 0 : batchSize)
        var closeWindow = [Float](repeating: 0, count: batchSize * l)
        var start = 0
        while start < order.count {
            let count = min(batchSize, order.count - start)
            if dropLast && count < batchSize { break }
            let batchBars = order[start..<(start + count)]
            try inputs.withUnsafeMutableBufferPointer { inp in
                try direction.withUnsafeMutableBufferPointer { dir in
                    try forward.withUnsafeMutableBufferPointer { fwd in
                        try barrier.withUnsafeMutableBufferPointer { bar in
                            try closeWindow.withUnsafeMutableBufferPointer { cw in
                                matrix.withUnsafeBufferPointer { m in
                                    for (b, t) in batchBars.enumerated() {
                                        let from = (t - l + 1) * f
                                        (inp.baseAddress! + b * rowFloats).update(from: m.baseAddress! + from, count: rowFloats)
                                        dir[b] = labels.direction[t]
                                        fwd[b] = labels.forwardReturn[t]
                                        if let lb = labels.barrier { bar[b] = lb[t] }
                                        let last = close[t]
                                        for j in 0..<l { cw[b * l + j] = Float(log(close[t - l + 1 + j] / last)) }
                                    }
                                }
                                let batch = Batch(count: count, window: l, features: f,
                                                  inputs: UnsafeBufferPointer(rebasing: inp[0..<(count * rowFloats)]),
                                                  direction: UnsafeBufferPointer(rebasing: dir[0..<count]),
                                                  forwardReturn: UnsafeBufferPointer(rebasing: fwd[0..<count]),
                                                  barrier: UnsafeBufferPointer(rebasing: bar[0..<(bar.isEmpty ? 0 : count)]),
                                                  close: UnsafeBufferPointer(rebasing: cw[0..<(count * l)]),
                                                  bars: batchBars)
                                try body(batch)
                            }
                        }
                    }
                }
            }
            start += count
        }
    }

    /// The scaled window ending at bar `t` (L·F floats), e.g. the robot's live input; nil before the warm-up.
    public func window(endingAt t: Int) -> [Float]? {
        guard t >= firstRow + window - 1, t < timestamps.count else { return nil }
        return Array(matrix[((t - window + 1) * featureCount)..<((t + 1) * featureCount)])
    }
}

/// Inference input: the latest window of a feature set over fresh bars, scaled with the scaler saved at training.
public enum InferenceWindow {
    /// L·F floats ending at the last bar, or an error when there are too few bars after the warm-up.
    public static func latest(bars: BarSeries, featureSet: FeatureSet, scaler: FeatureScaler, window: Int)
        throws(FeatureError) -> [Float]
    {
        let frame = featureSet.compute(bars)
        let needed = frame.maxLookback + window
        guard frame.count >= needed else {
            throw FeatureError(reason: "need \(needed) bars (warm-up \(frame.maxLookback) + window \(window)), have \(frame.count)")
        }
        let tail = frame[rows: (frame.count - window)..<frame.count]
        return try scaler.matrix(tail)
    }
}

