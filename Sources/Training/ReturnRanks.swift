import Features

/// The `beta_nll_rank` loss's target: the empirical-CDF rank of a forward log return among the training split's
/// forward returns, the mid-rank (#{r < x} + #{r ≤ x}) / 2N, in [0, 1] (0 below every training return, 1 above,
/// 0.5 at the median); `BetaNLLLoss` then squashes it to [0.05, 0.95]. Fitted on the training samples only (a
/// walk-forward fold's own), so validation and test targets use the training distribution.
///
///     let ranks = ReturnRanks(trainingReturns: [-0.02, 0.0, 0.01, 0.03])
///     ranks.rank(0.01)   // (2 + 3) / 8 = 0.625
struct ReturnRanks: Sendable {
    let sorted: [Float]

    init(trainingReturns: [Float]) {
        sorted = trainingReturns.filter(\.isFinite).sorted()
    }

    /// The training samples' forward returns of `dataset`.
    init(dataset: TrainingDataset) {
        self.init(trainingReturns: dataset.samples(.train).map { dataset.labels.forwardReturn[$0] })
    }

    /// Mid-rank of `x` in [0, 1]; 0.5 without training returns or for a non-finite `x`.
    func rank(_ x: Float) -> Float {
        guard !sorted.isEmpty, x.isFinite else { return 0.5 }
        let less = Self.firstIndex(sorted, where: { $0 >= x }), lessOrEqual = Self.firstIndex(sorted, where: { $0 > x })
        return Float(Double(less + lessOrEqual) / Double(2 * sorted.count))
    }

    /// The first index whose element satisfies `predicate` (monotone over `values`), or `values.count`.
    static func firstIndex(_ values: [Float], where predicate: (Float) -> Bool) -> Int {
        var lo = 0, hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if predicate(values[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
