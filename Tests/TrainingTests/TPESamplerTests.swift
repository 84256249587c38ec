import Common
import Foundation
import Testing
@testable import Training

/// Branin (2-D, minimum 0.397887) and Hartmann (6-D, minimum −3.32237): the standard test functions of the TPE
/// paper and of Optuna's benchmarks; `tools/reference/tpe_reference.py` has the same definitions.
enum TestFunctions {
    static func branin(_ x: [Double]) -> Double {
        let b = 5.1 / (4 * Double.pi * Double.pi), c = 5 / Double.pi, t = 1 / (8 * Double.pi)
        let u = x[1] - b * x[0] * x[0] + c * x[0] - 6
        return u * u + 10 * (1 - t) * cos(x[0]) + 10
    }
    static let braninSpace = SearchSpace([.init("x1", .float(low: -5, high: 10, log: false)), .init("x2", .float(low: 0, high: 15, log: false))])

    static let a: [[Double]] = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
    static let p: [[Double]] = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                                [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
    static let alpha = [1.0, 1.2, 3.0, 3.2]
    static func hartmann6(_ x: [Double]) -> Double {
        var total = 0.0
        for i in 0 ..< 4 {
            var s = 0.0
            for j in 0 ..< 6 { let d = x[j] - p[i][j] * 1e-4; s += a[i][j] * d * d }
            total += alpha[i] * exp(-s)
        }
        return -total
    }
    static let hartmannSpace = SearchSpace((0 ..< 6).map { .init("x\($0)", .float(low: 0, high: 1, log: false)) })

    static func median(_ v: [Double]) -> Double { MedianPruner.median(v) }
}

struct TPESamplerTests {
    struct Reference: Decodable {
        struct Function: Decodable { let trials: Int; let tpe_median: Double; let random_median: Double }
        let optuna: String
        let seeds: Int
        let branin: Function
        let hartmann6: Function
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tpe_reference", withExtension: "json"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// Median over `seeds` of the best value after `trials` trials; random search = TPE with every trial a startup one.
    static func medianBest(_ space: SearchSpace, trials: Int, seeds: Int, random: Bool, _ f: ([Double]) -> Double) -> Double {
        TestFunctions.median((0 ..< seeds).map { seed in
            let sampler = TPESampler(seed: UInt64(seed), startupTrials: random ? Int.max : 10)
            return Study(space: space, sampler: sampler).optimize(trials: trials, f)!.value!
        })
    }

    /// Against Optuna 5.1's TPESampler on the same functions, budgets and number of seeds (Optuna's seeds drive
    /// NumPy's generator, ours SplitMix64, so only the distributions of results can agree). TPE must beat random
    /// search's median outright, and come within a margin of Optuna's median: 0.15 on Branin (Optuna 0.493, its
    /// random search 1.066) and 0.25 on Hartmann (Optuna −3.228, its random search −2.123). Random search is 0.57
    /// and 1.1 behind Optuna, so the margins tell a TPE from random search yet absorb the seed-to-seed noise of a
    /// median over 20 seeds. Measured: ours 0.530 (random 1.107) and −3.143 (random −1.924).
    @Test func beatsRandomSearchAndIsWithinReachOfOptunaOnBraninAndHartmann() throws {
        let ref = try Self.reference()
        let seeds = ref.seeds
        let branin = Self.medianBest(TestFunctions.braninSpace, trials: ref.branin.trials, seeds: seeds, random: false, TestFunctions.branin)
        let braninRandom = Self.medianBest(TestFunctions.braninSpace, trials: ref.branin.trials, seeds: seeds, random: true, TestFunctions.branin)
        let hartmann = Self.medianBest(TestFunctions.hartmannSpace, trials: ref.hartmann6.trials, seeds: seeds, random: false, TestFunctions.hartmann6)
        let hartmannRandom = Self.medianBest(TestFunctions.hartmannSpace, trials: ref.hartmann6.trials, seeds: seeds, random: true, TestFunctions.hartmann6)
        print("branin: tpe \(branin) random \(braninRandom) optuna tpe \(ref.branin.tpe_median) optuna random \(ref.branin.random_median)")
        print("hartmann6: tpe \(hartmann) random \(hartmannRandom) optuna tpe \(ref.hartmann6.tpe_median) optuna random \(ref.hartmann6.random_median)")
        #expect(branin < braninRandom)
        #expect(hartmann < hartmannRandom)
        #expect(branin <= ref.branin.tpe_median + Self.braninMargin)
        #expect(hartmann <= ref.hartmann6.tpe_median + Self.hartmannMargin)
    }
    static let braninMargin = 0.15
    static let hartmannMargin = 0.25

    @Test func theSameSeedGivesTheSameTrialsAndAnotherSeedOthers() {
        func run(_ seed: UInt64) -> [[Double]] {
            let study = Study(space: TestFunctions.braninSpace, sampler: TPESampler(seed: seed))
            study.optimize(trials: 15, TestFunctions.branin)
            return study.trials.map(\.parameters)
        }
        #expect(run(5) == run(5))
        #expect(run(5) != run(6))
    }

    @Test func drawsRespectLogScalesIntStepsAndCategoricals() {
        let space = SearchSpace([
            .init("lr", .float(low: 1e-5, high: 1e-1, log: true)),
            .init("batch", .int(low: 8, high: 64, step: 8, log: false)),
            .init("units", .int(low: 1, high: 1000, step: 1, log: true)),
            .init("method", .categorical(["zscore", "robust", "none"])),
        ])
        // The objective prefers small learning rates and "robust": TPE must concentrate there after startup.
        let study = Study(space: space, sampler: TPESampler(seed: 3))
        study.optimize(trials: 80) { x in log10(x[0]) + 5 + (x[3] == 1 ? 0 : 2) + abs(x[1] - 32) / 64 }
        for t in study.trials {
            for (p, x) in zip(space.parameters, t.parameters) { #expect(p.distribution.contains(x), "\(p.name) = \(x)") }
        }
        // Log-uniform startup: about half the random draws below 10^-3 (the geometric middle), not 1 %.
        var random = RandomSampler(seed: 9)
        let lrs = (0 ..< 2000).map { _ in random.sample(space)[0] }
        let belowMiddle = Double(lrs.filter { $0 < 1e-3 }.count) / 2000
        #expect(abs(belowMiddle - 0.5) < 0.05)
        let units = (0 ..< 2000).map { _ in random.sample(space)[2] }
        #expect(abs(Double(units.filter { $0 <= 31 }.count) / 2000 - 0.5) < 0.06)
        // After the startup trials TPE prefers the good region and the good choice.
        let late = study.trials.suffix(40)
        #expect(late.filter { $0.parameters[3] == 1 }.count > 25)
        #expect(TestFunctions.median(late.map { log10($0.parameters[0]) }) < -3.5)
    }

    @Test func gammaWeightsAndSplitFollowOptuna() {
        #expect([1, 10, 11, 100, 250, 400].map(TPESampler.gamma) == [1, 1, 2, 10, 25, 25])
        #expect(ParzenEstimator.defaultWeights(3) == [1, 1, 1])
        let w = ParzenEstimator.defaultWeights(30)
        #expect(w.count == 30 && abs(w[0] - 1.0 / 30) < 1e-12 && w[4] == 1 && w[29] == 1)
        let trials = [Trial(number: 0, parameters: [0], state: .complete, value: 3),
                      Trial(number: 1, parameters: [1], state: .pruned, intermediate: [0: 1, 1: 5]),
                      Trial(number: 2, parameters: [2], state: .complete, value: 1),
                      Trial(number: 3, parameters: [3], state: .pruned, intermediate: [0: 0.5])]
        let (below, above) = TPESampler.split(trials, below: 3)
        // Complete by value (2, 0), then the pruned trial that got further (1) before the one pruned earlier (3).
        #expect(below.map(\.number) == [0, 1, 2] && above.map(\.number) == [3])
    }

    @Test func truncatedNormalMatchesKnownValues() {
        #expect(abs(TruncatedNormal.logMass(-1, 1) - log(0.682689492137086)) < 1e-12)
        #expect(abs(TruncatedNormal.logMass(8, 9) - (-35.013618593437144)) < 1e-9)   // right tail, no cancellation
        #expect(abs(TruncatedNormal.logNdtr(-40) - (-804.6084420137538)) < 1e-9)
        #expect(abs(TruncatedNormal.quantile(0.5, a: 0, b: .infinity) - 0.674489750196082) < 1e-9)
        #expect(abs(TruncatedNormal.quantile(0.25, a: -.infinity, b: .infinity) + 0.674489750196082) < 1e-9)
        let x = TruncatedNormal.quantile(0.3, a: 10, b: 11)
        #expect(x > 10 && x < 10.1)
    }
}
