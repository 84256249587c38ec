import Common
import Foundation
import Testing
@testable import Training

@Suite(.serialized) struct TunerTests {
    @Test func aTinySearchTrainsEachTrialAndWritesABestConfigThatLoads() throws {
        let dir = TrainingFixture.directory("tune")
        let base = try TrainingFixture.config(in: dir, epochs: 2)
        let space = SearchSpace([
            .init("training.learning_rate", .float(low: 1e-4, high: 1e-2, log: true)),
            .init("training.batch_size", .categorical(["8", "16"])),
        ])
        let tuner = try Tuner(base: base, space: space, bars: TrainingFixture.bars(), backend: .cpu, seed: 5)
        var lines: [String] = [], epochs = 0
        tuner.onTrial = { lines.append($0.line) }
        tuner.onEpoch = { _, _ in epochs += 1 }
        let study = try tuner.run(trials: 3)
        #expect(study.trials.count == 3 && lines.count == 3 && epochs == 6)
        #expect(study.trials.allSatisfy { $0.state == .complete && $0.intermediate.count == 2 })
        for t in study.trials {
            // The trial's value is its best validation loss; each trial trained in its own directory.
            #expect(t.value == t.intermediate.values.min())
            #expect(FileManager.default.fileExists(atPath: dir + String(format: "/ck/trial-%04d/best.safetensors", t.number)))
        }
        let best = try #require(try tuner.bestConfig())
        let bestTrial = try #require(study.best)
        #expect(best.learningRate == bestTrial.parameters[0])
        #expect(best.batchSize == Int(space.parameters[1].distribution.text(bestTrial.parameters[1])))
        try best.yaml.write(toFile: dir + "/best.yaml", atomically: true, encoding: .utf8)
        #expect(try TrainingConfig.load(path: dir + "/best.yaml") == best)
        // Same seed, same trials.
        let again = try Tuner(base: base, space: space, bars: TrainingFixture.bars(), backend: .cpu, seed: 5)
        #expect(try again.run(trials: 2).trials.map(\.parameters) == study.trials.prefix(2).map(\.parameters))
    }

    @Test func thePrunerStopsATrialThroughTheTrainersStopHook() throws {
        let dir = TrainingFixture.directory("tune-prune")
        let base = try TrainingFixture.config(in: dir, epochs: 3)
        // A learning rate far too small for 3 epochs is worse than the median of the two completed trials.
        let space = SearchSpace([.init("training.learning_rate", .categorical(["3.0e-3", "1.0e-9"]))])
        // Seed 7 draws 3e-3, 3e-3, then 1e-9 twice (random startup trials); the 1e-9 trials' epoch-1 loss is above
        // the completed trials' median there.
        let tuner = try Tuner(base: base, space: space, bars: TrainingFixture.bars(), backend: .cpu, seed: 7,
                              pruner: MedianPruner(startupTrials: 2))
        var reports: [Tuner.Report] = []
        tuner.onTrial = { reports.append($0) }
        _ = try tuner.run(trials: 4)
        let completed = reports.filter { $0.trial.state == .complete }
        let pruned = reports.filter { $0.trial.state == .pruned }
        #expect(completed.map(\.trial.number) == [0, 1] && pruned.map(\.trial.number) == [2, 3])
        for r in pruned {
            #expect(r.parameters[0].value == "1.0e-9")
            #expect(r.epochsRun < 3)   // stopped before the last epoch
        }
    }
}

struct TrainingConfigYAMLTests {
    @Test func aConfigWrittenAsYAMLLoadsBackEqual() throws {
        var config = TrainingConfig(modelType: .mediumTerm)
        config.timeframe = "4h"
        config.label = .init(horizon: 3, deadZone: 0.0005)
        config.embargo = 2
        config.learningRate = 3.3e-5
        config.maxBatchesPerEpoch = 7
        config.threads = 2
        config.checkpointDirectory = "checkpoints/a \"quoted\" dir"
        let path = TrainingFixture.directory("yaml") + "/c.yaml"
        try config.yaml.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TrainingConfig.load(path: path) == config)
        try TrainingConfig(modelType: .longTerm).yaml.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try TrainingConfig.load(path: path) == TrainingConfig(modelType: .longTerm))
    }
}
