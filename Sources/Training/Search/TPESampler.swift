import Common
import Foundation

/// The Tree-structured Parzen Estimator (Bergstra et al. 2011) with Optuna 5.1's `TPESampler` defaults: the first
/// `startupTrials` (10) trials are random (`RandomSampler`); after that the finished trials are split into the
/// γ(n) = min(⌈0.1 n⌉, 25) best ("below") and the rest ("above") (complete trials by value, then pruned ones by
/// the last step reached, deepest first, and their value there), a `ParzenEstimator` l(x) is fitted to the below
/// and g(x) to the above trials, `candidates` (24) points are drawn from l(x) and the one maximising
/// log l(x) − log g(x) is the next trial.
///
/// Like Optuna 5.1's default for one objective (`multivariate` unset ⇒ multivariate), the estimators are joint
/// over all parameters (one kernel per observation, a product over the parameters); `multivariate: false` gives
/// the classic univariate TPE (each parameter alone). Differences from Optuna: the random streams (SplitMix64, not
/// NumPy's MT19937), so draws match Optuna's in distribution, not value by value; one study at a time (no
/// constant liar, no constraints, no multi-objective).
///
///     var tpe = TPESampler(seed: 42)
///     let x = tpe.sample(space, trials: study.trials)
public struct TPESampler: Sendable {
    public var startupTrials = 10
    public var candidates = 24
    public var multivariate = true
    var random: RandomSampler
    var rng: SplitMix64

    public init(seed: UInt64, startupTrials: Int = 10, candidates: Int = 24, multivariate: Bool = true) {
        random = RandomSampler(seed: seed)
        rng = SplitMix64(seed: seed ^ 0x5450_455F_5450_4531)
        self.startupTrials = startupTrials
        self.candidates = candidates
        self.multivariate = multivariate
    }

    /// Optuna's `default_gamma`.
    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// The next trial's parameters given the study's trials so far (running and failed ones are ignored).
    public mutating func sample(_ space: SearchSpace, trials: [Trial]) -> [Double] {
        let finished = trials.filter { $0.state == .complete || $0.state == .pruned }
        if finished.count < startupTrials { return random.sample(space) }
        let (below, above) = Self.split(finished, below: Self.gamma(finished.count))
        if multivariate { return best(space, below: below.map(\.parameters), above: above.map(\.parameters)) }
        return space.parameters.indices.map { d in
            best(SearchSpace([space.parameters[d]]), below: below.map { [$0.parameters[d]] }, above: above.map { [$0.parameters[d]] })[0]
        }
    }

    mutating func best(_ space: SearchSpace, below: [[Double]], above: [[Double]]) -> [Double] {
        let l = ParzenEstimator(observations: below, space: space)
        let g = ParzenEstimator(observations: above, space: space)
        let xs = l.sample(count: candidates, using: &rng)
        var bestIndex = 0, bestScore = -Double.infinity
        for (i, x) in xs.enumerated() {
            let score = l.logPDF(x) - g.logPDF(x)
            if score > bestScore { bestScore = score; bestIndex = i }   // first maximum, like np.argmax
        }
        return xs[bestIndex]
    }

    /// Optuna's `_split_trials` for one objective to minimise: the `below` best (complete by value, then pruned by
    /// (−last step, value there)); both halves returned in trial-number order (so the ramp weights favour recent
    /// trials).
    public static func split(_ trials: [Trial], below n: Int) -> (below: [Trial], above: [Trial]) {
        let complete = trials.filter { $0.state == .complete }.sorted { ($0.value ?? .infinity, $0.number) < ($1.value ?? .infinity, $1.number) }
        func score(_ t: Trial) -> (Int, Double) {
            guard let step = t.lastStep, let v = t.intermediate[step] else { return (1, 0) }
            return (-step, v.isNaN ? .infinity : v)
        }
        let pruned = trials.filter { $0.state == .pruned }.sorted { (score($0).0, score($0).1, $0.number) < (score($1).0, score($1).1, $1.number) }
        let ordered = complete + pruned
        let k = min(n, ordered.count)
        return (Array(ordered[..<k]).sorted { $0.number < $1.number }, Array(ordered[k...]).sorted { $0.number < $1.number })
    }
}
