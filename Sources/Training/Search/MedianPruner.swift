/// Optuna's `MedianPruner` (a `PercentilePruner` at 50 for minimisation): at a step s a trial is pruned when the
/// best value it reported so far is worse (greater) than the median of the values the completed trials reported at
/// s, once `startupTrials` (5) trials have completed and s ≥ `warmupSteps` (0), checking every `intervalSteps`
/// (1) steps after the warmup; a NaN best value is always pruned; fewer than `minTrials` (1) values at s never
/// prune.
///
///     let pruner = MedianPruner(startupTrials: 5, warmupSteps: 2)
///     if pruner.shouldPrune(trial, completed: study.trials) { stop the trial }
public struct MedianPruner: Sendable, Equatable {
    public var startupTrials: Int
    public var warmupSteps: Int
    public var intervalSteps: Int
    public var minTrials: Int

    public init(startupTrials: Int = 5, warmupSteps: Int = 0, intervalSteps: Int = 1, minTrials: Int = 1) {
        self.startupTrials = startupTrials
        self.warmupSteps = warmupSteps
        self.intervalSteps = max(1, intervalSteps)
        self.minTrials = minTrials
    }

    /// Whether `trial` should stop now, given every trial of the study (only the complete ones count).
    public func shouldPrune(_ trial: Trial, trials: [Trial]) -> Bool {
        let completed = trials.filter { $0.state == .complete }
        guard !completed.isEmpty, completed.count >= startupTrials else { return false }
        guard let step = trial.lastStep, step >= warmupSteps else { return false }
        // Optuna's _is_first_in_interval_step.
        let nearest = (step - warmupSteps) / intervalSteps * intervalSteps + warmupSteps
        let secondLast = trial.intermediate.keys.filter { $0 != step }.max() ?? -1
        guard secondLast < nearest else { return false }
        let values = trial.intermediate.values
        if values.contains(where: \.isNaN) && values.allSatisfy({ $0.isNaN }) { return true }
        let best = values.filter { !$0.isNaN }.min()!
        let others = completed.compactMap { $0.intermediate[step] }.filter { !$0.isNaN }
        guard others.count >= minTrials else { return false }
        return best > Self.median(others)
    }

    /// The median (NumPy's linear-interpolation percentile 50).
    public static func median(_ values: [Double]) -> Double {
        let s = values.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}
