/// A minimisation study: the search space, the TPE sampler, an optional median pruner and the trials so far
/// (Optuna's ask / report / should-prune / tell loop, one trial at a time).
///
///     let study = Study(space: space, sampler: TPESampler(seed: 1))
///     let best = study.optimize(trials: 60) { x in branin(x[0], x[1]) }
public final class Study {
    public let space: SearchSpace
    public var sampler: TPESampler
    public let pruner: MedianPruner?
    public private(set) var trials: [Trial] = []

    public init(space: SearchSpace, sampler: TPESampler, pruner: MedianPruner? = nil) {
        self.space = space
        self.sampler = sampler
        self.pruner = pruner
    }

    /// Starts a trial with the sampler's next parameters; returns its number.
    public func ask() -> Int {
        let x = sampler.sample(space, trials: trials)
        trials.append(Trial(number: trials.count, parameters: x))
        return trials.count - 1
    }

    /// Records the trial's value at `step` (for training: the validation loss after that epoch).
    public func report(_ number: Int, step: Int, value: Double) {
        trials[number].intermediate[step] = value
    }

    /// Whether the pruner stops the trial now.
    public func shouldPrune(_ number: Int) -> Bool {
        pruner?.shouldPrune(trials[number], trials: trials) ?? false
    }

    /// Finishes a trial: complete with its value (a NaN value makes it failed), pruned or failed.
    public func tell(_ number: Int, state: Trial.State, value: Double? = nil) {
        var state = state
        if state == .complete, value.map({ $0.isNaN }) ?? true { state = .failed }
        trials[number].state = state
        trials[number].value = state == .complete ? value : nil
    }

    /// The complete trial with the lowest value (the earliest on ties).
    public var best: Trial? {
        trials.filter { $0.state == .complete }.min { ($0.value!, $0.number) < ($1.value!, $1.number) }
    }

    /// Runs `trials` trials of an objective without intermediate values; returns the best trial.
    @discardableResult
    public func optimize(trials count: Int, _ objective: ([Double]) -> Double) -> Trial? {
        for _ in 0 ..< count {
            let n = ask()
            tell(n, state: .complete, value: objective(trials[n].parameters))
        }
        return best
    }
}
