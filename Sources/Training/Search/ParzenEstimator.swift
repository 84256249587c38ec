import Common
import Foundation

/// Optuna's `_ParzenEstimator` (`samplers/_tpe/parzen_estimator.py`, 5.1): a mixture over kernels, one per
/// observation plus a prior kernel, each kernel a product over the parameters of
/// - a truncated normal (float; in log space for log parameters; for int/stepped parameters the mass of the
///   grid cell [x − step/2, x + step/2] in a normal truncated to [low − step/2, high + step/2]), centred on the
///   observation with the bandwidth of its neighbours (the larger distance to the sorted neighbours or the
///   bounds; the outermost ones use their inner neighbour, `consider_endpoints=False`), clipped to
///   [(high − low) / min(100, n + 2), high − low] (`consider_magic_clip`); the prior kernel is centred at the
///   middle with σ = high − low;
/// - a categorical: each observation's kernel puts 1 + prior_weight/(n+1) on its choice and prior_weight/(n+1)
///   on the others (normalised); the prior kernel is uniform.
///
/// Kernel weights: Optuna's `default_weights` (1 for the 25 most recent observations, a ramp from 1/n below
/// them) and `prior_weight` (1) for the prior kernel, normalised. With no observation the mixture is the prior.
///
///     let pe = ParzenEstimator(observations: [[0.2], [0.4]], space: space)
///     let xs = pe.sample(count: 24, using: &rng)
///     let scores = xs.map(pe.logPDF)
public struct ParzenEstimator: Sendable {
    enum Kernels: Sendable {
        /// mus and sigmas in the transformed space (log for log parameters); `logNorm[k]`: the log normaliser of
        /// kernel k over [adaptedLow, adaptedHigh] (for continuous ones, plus log σ + log √(2π)).
        case numerical(mus: [Double], sigmas: [Double], adaptedLow: Double, adaptedHigh: Double, low: Double, high: Double,
                       step: Double, isLog: Bool, logNorm: [Double])
        case categorical(weights: [[Double]])
    }

    public let space: SearchSpace
    let logWeights: [Double]
    let cumulativeWeights: [Double]
    let kernels: [Kernels]

    public static let priorWeight = 1.0

    /// Optuna's `default_weights(n)`: ones below 25 observations, else a ramp from 1/n to 1 over the n − 25 oldest
    /// then 25 ones (observations in trial order, oldest first).
    public static func defaultWeights(_ n: Int) -> [Double] {
        if n == 0 { return [] }
        if n < 25 { return Array(repeating: 1, count: n) }
        let m = n - 25
        let ramp: [Double] = m == 1 ? [1.0 / Double(n)]
            : (0 ..< m).map { 1.0 / Double(n) + (1 - 1.0 / Double(n)) * Double($0) / Double(m - 1) }
        return ramp + Array(repeating: 1, count: 25)
    }

    /// `observations[i][d]`: parameter d of observation i, internal representation (categorical: index), in
    /// trial order.
    public init(observations: [[Double]], space: SearchSpace) {
        self.space = space
        let n = observations.count
        var weights = n == 0 ? [1.0] : Self.defaultWeights(n) + [Self.priorWeight]
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        logWeights = weights.map { log($0) }
        var cumulative: [Double] = []
        var running = 0.0
        for w in weights { running += w; cumulative.append(running) }
        cumulativeWeights = cumulative
        kernels = space.parameters.enumerated().map { d, parameter in
            Self.kernels(observations.map { $0[d] }, parameter.distribution)
        }
    }

    static func kernels(_ observations: [Double], _ distribution: SearchSpace.Distribution) -> Kernels {
        var low: Double, high: Double, step: Double, isLog: Bool
        switch distribution {
        case .categorical(let choices):
            let c = choices.count
            if observations.isEmpty { return .categorical(weights: [Array(repeating: 1.0 / Double(c), count: c)]) }
            let nKernels = observations.count + 1
            var w = Array(repeating: Array(repeating: priorWeight / Double(nKernels), count: c), count: nKernels)
            for (i, x) in observations.enumerated() { w[i][Int(x)] += 1 }
            for k in 0 ..< nKernels {
                let s = w[k].reduce(0, +)
                if s > 0 { w[k] = w[k].map { $0 / s } }
            }
            return .categorical(weights: w)
        case let .float(l, h, log):
            low = l; high = h; step = 0; isLog = log
        case let .int(l, h, s, log):
            low = Double(l); high = Double(h); step = Double(s); isLog = log
        }
        var lo = low - step / 2, hi = high + step / 2
        var mus = observations
        if isLog {
            mus = mus.map { Foundation.log($0) }
            lo = Foundation.log(lo); hi = Foundation.log(hi)
        }
        // Bandwidths (Optuna's compute_sigmas).
        let order = mus.indices.sorted { mus[$0] < mus[$1] }
        let sorted = [lo] + order.map { mus[$0] } + [hi]
        var sortedSigmas: [Double] = []
        for i in 1 ..< sorted.count - 1 {
            let left: Double = sorted[i] - sorted[i - 1], right: Double = sorted[i + 1] - sorted[i]
            sortedSigmas.append(max(left, right))
        }
        if sorted.count >= 4 {
            sortedSigmas[0] = sorted[2] - sorted[1]
            sortedSigmas[sortedSigmas.count - 1] = sorted[sorted.count - 2] - sorted[sorted.count - 3]
        }
        var sigmas = Array(repeating: 0.0, count: mus.count)
        for (rank, index) in order.enumerated() { sigmas[index] = sortedSigmas[rank] }
        let maxSigma = hi - lo
        let minSigma = (hi - lo) / min(100, 1 + Double(observations.count + 1))
        sigmas = sigmas.map { min(max($0, minSigma), maxSigma) }
        mus.append(0.5 * (lo + hi))
        sigmas.append(hi - lo)
        var logNorm: [Double] = []
        for (mu, sigma) in zip(mus, sigmas) {
            let mass = TruncatedNormal.logMass((lo - mu) / sigma, (hi - mu) / sigma)
            logNorm.append(step == 0 ? mass + Foundation.log(sigma) + TruncatedNormal.logSqrt2Pi : mass)
        }
        return .numerical(mus: mus, sigmas: sigmas, adaptedLow: lo, adaptedHigh: hi, low: low, high: high, step: step,
                          isLog: isLog, logNorm: logNorm)
    }

    /// `count` draws (internal representation): a kernel by weight, then each parameter from that kernel (Optuna's
    /// `_MixtureOfProductDistribution.sample`; truncated normals by their quantile function, stepped values rounded
    /// onto the grid and clipped).
    public func sample<G: RandomNumberGenerator>(count: Int, using rng: inout G) -> [[Double]] {
        (0 ..< count).map { _ in
            let u = Self.uniform(&rng)
            let k = min(cumulativeWeights.firstIndex { u < $0 } ?? cumulativeWeights.count - 1, logWeights.count - 1)
            return kernels.map { kernel in
                switch kernel {
                case .categorical(let weights):
                    let row = weights[min(k, weights.count - 1)]
                    let q = Self.uniform(&rng)
                    var acc = 0.0
                    for (j, p) in row.enumerated() {
                        acc += p
                        if q < acc || j == row.count - 1 { return Double(j) }
                    }
                    return Double(row.count - 1)
                case let .numerical(mus, sigmas, lo, hi, low, high, step, isLog, _):
                    let mu = mus[k], sigma = sigmas[k]
                    let z = TruncatedNormal.quantile(Self.uniform(&rng), a: (lo - mu) / sigma, b: (hi - mu) / sigma)
                    var x = z * sigma + mu
                    if isLog { x = exp(x) }
                    if step > 0 { x = min(max(low + ((x - low) / step).rounded(.toNearestOrEven) * step, low), high) }
                    else { x = min(max(x, low), high) }
                    return x
                }
            }
        }
    }

    /// log density (log mass for stepped and categorical parameters) of the mixture at `x`.
    public func logPDF(_ x: [Double]) -> Double {
        var terms = logWeights
        for (d, kernel) in kernels.enumerated() {
            switch kernel {
            case .categorical(let weights):
                for k in terms.indices { terms[k] += log(weights[min(k, weights.count - 1)][Int(x[d])]) }
            case let .numerical(mus, sigmas, _, _, _, _, step, isLog, logNorm):
                if step == 0 {
                    let v = isLog ? log(x[d]) : x[d]
                    for k in terms.indices {
                        let z = (v - mus[k]) / sigmas[k]
                        terms[k] += -0.5 * z * z - logNorm[k]
                    }
                } else {
                    let left = isLog ? log(x[d] - step / 2) : x[d] - step / 2
                    let right = isLog ? log(x[d] + step / 2) : x[d] + step / 2
                    for k in terms.indices {
                        terms[k] += TruncatedNormal.logMass((left - mus[k]) / sigmas[k], (right - mus[k]) / sigmas[k]) - logNorm[k]
                    }
                }
            }
        }
        let m = terms.max() ?? -.infinity
        guard m > -.infinity else { return -.infinity }
        return m + log(terms.reduce(0) { $0 + exp($1 - m) })
    }

    /// A uniform draw in [0, 1) with 53 random bits.
    static func uniform<G: RandomNumberGenerator>(_ rng: inout G) -> Double {
        Double(rng.next() >> 11) / Double(1 << 53)
    }
}
