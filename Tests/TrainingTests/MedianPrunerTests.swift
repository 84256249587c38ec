import Testing
@testable import Training

struct MedianPrunerTests {
    static func complete(_ n: Int, _ curve: [Double]) -> Trial {
        Trial(number: n, parameters: [], state: .complete, value: curve.min(),
              intermediate: Dictionary(uniqueKeysWithValues: curve.enumerated().map { ($0.offset, $0.element) }))
    }

    @Test func prunesAtAStepWhenTheBestValueSoFarIsWorseThanTheCompletedTrialsMedianThere() {
        // Five completed trials; at step 1 their values are 1, 2, 3, 4, 5 (median 3).
        let done = (0 ..< 5).map { Self.complete($0, [10, Double($0 + 1), 0.5]) }
        let pruner = MedianPruner()
        var t = Trial(number: 5, parameters: [], intermediate: [0: 9, 1: 3.5])
        #expect(pruner.shouldPrune(t, trials: done + [t]))
        t.intermediate = [0: 9, 1: 2.5]
        #expect(!pruner.shouldPrune(t, trials: done + [t]))
        // The best value so far counts, not the last one (Optuna): 2.9 at step 0 keeps it at step 1.
        t.intermediate = [0: 2.9, 1: 4]
        #expect(!pruner.shouldPrune(t, trials: done + [t]))
        // Exactly the median is not worse.
        t.intermediate = [0: 9, 1: 3]
        #expect(!pruner.shouldPrune(t, trials: done + [t]))
        // A NaN-only trial is pruned.
        t.intermediate = [0: .nan]
        #expect(pruner.shouldPrune(t, trials: done + [t]))
    }

    @Test func neverPrunesBeforeTheStartupTrialsOrTheWarmupSteps() {
        let done = (0 ..< 4).map { Self.complete($0, [1, 1, 1]) }
        let bad = Trial(number: 9, parameters: [], intermediate: [0: 100, 1: 100])
        #expect(!MedianPruner().shouldPrune(bad, trials: done + [bad]))                 // 4 < 5 completed
        #expect(MedianPruner(startupTrials: 4).shouldPrune(bad, trials: done + [bad]))
        #expect(!MedianPruner(startupTrials: 4, warmupSteps: 2).shouldPrune(bad, trials: done))  // step 1 < 2
        // Pruned and running trials do not count as completed.
        let others = (0 ..< 6).map { Trial(number: $0, parameters: [], state: .pruned, intermediate: [0: 1, 1: 1]) }
        #expect(!MedianPruner().shouldPrune(bad, trials: others + [bad]))
        // No completed trial reported at this step: nothing to compare with.
        let deep = Trial(number: 9, parameters: [], intermediate: [0: 100, 7: 100])
        #expect(!MedianPruner(startupTrials: 4).shouldPrune(deep, trials: done))
    }

    @Test func intervalStepsCheckOnlyOnTheGridAfterWarmup() {
        let done = (0 ..< 5).map { Self.complete($0, Array(repeating: 1, count: 10)) }
        let pruner = MedianPruner(warmupSteps: 2, intervalSteps: 3)
        func at(_ steps: [Int]) -> Bool {
            let t = Trial(number: 9, parameters: [], intermediate: Dictionary(uniqueKeysWithValues: steps.map { ($0, 50.0) }))
            return pruner.shouldPrune(t, trials: done)
        }
        #expect(at([0, 1, 2]))          // 2: the first check
        #expect(!at([0, 1, 2, 3]))      // 3, 4: between checks
        #expect(!at([0, 1, 2, 3, 4]))
        #expect(at([0, 1, 2, 3, 4, 5])) // 5: the next check
        #expect(MedianPruner.median([3, 1, 2, 10]) == 2.5)
    }
}
