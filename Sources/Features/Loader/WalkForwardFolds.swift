/// Walk-forward folds with an expanding window and a test block per fold: the out-of-sample layout of
/// `aitrader train --walk-forward K`.
///
/// Of n increasing sample bars, the first `initial` share (⌊n · initial⌋ samples) is never tested; the rest is cut
/// into K consecutive test blocks of ⌊(n − a) / K⌋ samples (the last block takes the remainder). Fold k trains on
/// every sample before its test block, the last `validation` share of those (⌊s · validation⌋ of the s samples
/// before the block) being its validation tail (early stopping, checkpoint choice). Purge and embargo
/// (`ChronologicalSplit`) apply at both boundaries of every fold: train → validation and validation → test.
/// Nothing after a fold's test block is part of that fold.
///
/// Worked example: samples are bars 0...99 (n = 100), K = 2, initial 0.5, validation 0.2, window L = 1, horizon
/// H = 2, embargo 2. a = 50, blocks of 25:
///
///     fold 0: before the block 0..<50 → train 0..<40, validation 40..<50, test 50..<75
///             purge: train keeps t + 2 < 40 → 0...37; validation keeps t + 2 < 50 → 42...47 (embargo drops 40, 41)
///             test: embargo drops 50, 51 → 52...74
///     fold 1: before the block 0..<75 → train 0..<60, validation 60..<75, test 75..<100
///             → train 0...57, validation 62...72, test 77...99
///
///     let folds = ChronologicalSplit.walkForward(samples: Array(0..<100), folds: 2, window: 1, horizon: 2,
///                                                initial: 0.5, validation: 0.2, embargo: 2)
///     folds[0].test.first == 52 && folds[1].validation.last == 72 && folds[1].test == Array(77...99)   // true
///
/// Test blocks are disjoint and increasing (each fold's test ends before the next one's starts); together they
/// cover the samples from a to the end but for each block's first `embargo` bars.
extension ChronologicalSplit {
    /// The K folds of `samples` (see the type's layout). A fold's parts may be empty when there are too few
    /// samples; callers check (`aitrader train --walk-forward` refuses such data before training).
    public static func walkForward(samples: [Int], folds: Int, window: Int, horizon: Int, initial: Double,
                                   validation: Double, embargo: Int = 0) -> [ChronologicalSplit] {
        (0..<folds).map {
            walkForwardFold($0, of: folds, samples: samples, window: window, horizon: horizon, initial: initial,
                            validation: validation, embargo: embargo)
        }
    }

    /// Fold `k` (0-based) of `folds`.
    public static func walkForwardFold(_ k: Int, of folds: Int, samples: [Int], window: Int, horizon: Int,
                                       initial: Double, validation: Double, embargo: Int = 0) -> ChronologicalSplit {
        precondition(folds >= 1 && (0..<folds).contains(k), "fold \(k) of \(folds)")
        precondition(initial > 0 && initial < 1 && validation >= 0 && validation < 1,
                     "initial in (0, 1) and validation in [0, 1)")
        let n = samples.count
        let a = Int((Double(n) * initial).rounded(.down))
        let block = (n - a) / folds
        let testStart = a + k * block
        let testEnd = k == folds - 1 ? n : testStart + block
        let validationStart = testStart - Int((Double(testStart) * validation).rounded(.down))
        let parts = separate([Array(samples[0..<validationStart]), Array(samples[validationStart..<testStart]),
                              Array(samples[testStart..<testEnd])], window: window, horizon: horizon, embargo: embargo)
        return ChronologicalSplit(train: parts[0], validation: parts[1], test: parts[2])
    }
}
