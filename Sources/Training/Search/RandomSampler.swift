import Common
import Foundation

/// Independent uniform draws from a search space (Optuna's `RandomSampler`): floats uniform on [low, high] (log
/// parameters uniform in log space), ints uniform over the grid cells [low − step/2, high + step/2] rounded onto
/// the grid, categoricals uniform over the choices. Seeded: the same seed gives the same draws.
///
///     var random = RandomSampler(seed: 3)
///     let x = random.sample(space)   // e.g. [0.0042, 32]
public struct RandomSampler: Sendable {
    var rng: SplitMix64

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    public mutating func sample(_ space: SearchSpace) -> [Double] {
        space.parameters.map { draw($0.distribution) }
    }

    mutating func draw(_ distribution: SearchSpace.Distribution) -> Double {
        let u = ParzenEstimator.uniform(&rng)
        switch distribution {
        case let .float(low, high, log):
            if log { return min(max(exp(Foundation.log(low) + u * (Foundation.log(high) - Foundation.log(low))), low), high) }
            return min(low + u * (high - low), high)
        case let .int(low, high, step, log):
            let lo = Double(low) - Double(step) / 2, hi = Double(high) + Double(step) / 2
            let x = log ? exp(Foundation.log(lo) + u * (Foundation.log(hi) - Foundation.log(lo))) : lo + u * (hi - lo)
            let k = ((x - Double(low)) / Double(step)).rounded(.toNearestOrEven)
            return min(max(Double(low) + k * Double(step), Double(low)), Double(high))
        case .categorical(let choices):
            return Double(min(Int(u * Double(choices.count)), choices.count - 1))
        }
    }
}
