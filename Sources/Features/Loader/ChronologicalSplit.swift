/// Chronological train / validation / test splits of sample positions, with purging and an embargo, and
/// walk-forward folds.
///
/// A sample at bar t uses feature rows [t − L + 1, t] and label bars (t, t + H]. At every boundary between a split
/// and the next one (whose first sample is at bar b):
/// - purge: samples of the earlier split whose label window reaches the next split's first window
///   (t + H ≥ b − L + 1) are dropped, so no label of one split is computed from prices another split sees;
/// - embargo: the next split's samples with t < b + embargo are dropped, so serially correlated features just
///   after the boundary cannot echo the earlier split's labels.
///
///     let s = ChronologicalSplit.make(samples: dataset.samples, window: 64, horizon: 8,
///                                     fractions: (0.7, 0.15, 0.15), embargo: 8)
///     s.train.last! + 8 < s.validation.first! - 63   // true
public struct ChronologicalSplit: Sendable, Equatable {
    /// Bar indices t of the samples in each split, increasing.
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]

    public init(train: [Int], validation: [Int], test: [Int]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// Splits increasing sample bars by fractions of the sample count (test = the rest).
    public static func make(samples: [Int], window: Int, horizon: Int, fractions: (train: Double, validation: Double),
                            embargo: Int = 0) -> ChronologicalSplit {
        precondition(fractions.train > 0 && fractions.validation >= 0 && fractions.train + fractions.validation <= 1,
                     "fractions must be in [0, 1] and sum to at most 1")
        let n = samples.count
        let a = Int((Double(n) * fractions.train).rounded(.down))
        let b = min(n, a + Int((Double(n) * fractions.validation).rounded(.down)))
        let parts = separate([Array(samples[0..<a]), Array(samples[a..<b]), Array(samples[b..<n])], window: window,
                             horizon: horizon, embargo: embargo)
        return ChronologicalSplit(train: parts[0], validation: parts[1], test: parts[2])
    }

    /// Walk-forward folds: the samples are cut into `folds + 1` equal blocks; fold k trains on blocks 0...k
    /// (expanding) or on block k only (`expanding: false`) and validates on block k + 1, purged and embargoed.
    public static func walkForward(samples: [Int], folds: Int, window: Int, horizon: Int, embargo: Int = 0,
                                   expanding: Bool = true) -> [(train: [Int], validation: [Int])] {
        precondition(folds >= 1, "at least one fold")
        let n = samples.count
        let size = n / (folds + 1)
        guard size > 0 else { return [] }
        var out: [(train: [Int], validation: [Int])] = []
        for k in 0..<folds {
            let trainStart = expanding ? 0 : k * size
            let trainEnd = (k + 1) * size
            let valEnd = k == folds - 1 ? n : (k + 2) * size
            let parts = separate([Array(samples[trainStart..<trainEnd]), Array(samples[trainEnd..<valEnd])],
                                 window: window, horizon: horizon, embargo: embargo)
            out.append((parts[0], parts[1]))
        }
        return out
    }

    /// Applies purge and embargo at each boundary between consecutive non-empty parts.
    static func separate(_ parts: [[Int]], window: Int, horizon: Int, embargo: Int) -> [[Int]] {
        var parts = parts
        for k in 0..<(parts.count - 1) {
            guard let next = parts[(k + 1)...].first(where: { !$0.isEmpty })?.first else { continue }
            let nextWindowStart = next - window + 1
            parts[k].removeAll { $0 + horizon >= nextWindowStart }
            if let j = parts[(k + 1)...].firstIndex(where: { !$0.isEmpty }) {
                parts[j].removeAll { $0 < next + embargo }
            }
        }
        return parts
    }
}
