import Common
import Engine
import Foundation
import MarketData
import Models
import Testing
@testable import Training

/// `WalkForward` end to end on the fixture bars (`TrainingFixture`): per-fold checkpoints, per-fold and pooled
/// out-of-sample figures in walk_forward.json, determinism, and the too-short-data error.
@Suite(.serialized) struct WalkForwardTests {
    static func run(in name: String) throws -> (result: WalkForwardResult, directory: String, json: String) {
        let dir = TrainingFixture.directory(name)
        let config = try TrainingFixture.config(in: dir, epochs: 2)
        let wf = WalkForward(config: config, bars: TrainingFixture.bars(), folds: 3,
                             evaluation: .init(commission: 0.0002, resamples: 100, seed: 3))
        let result = try wf.run(backend: .cpu) { _, trainer in trainer.showProgress = false }
        let path = try result.write(to: config.checkpointDirectory)
        return (result, config.checkpointDirectory, try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func trainsOneModelPerFoldAndPoolsTheTestBlocks() throws {
        let (result, ck, json) = try Self.run(in: "walk-forward-a")
        #expect(result.perFold.map(\.fold) == [0, 1, 2] && result.folds == 3)
        for k in 0..<3 {
            for file in ["best.safetensors", "last.safetensors", "evaluation/evaluation.json", "evaluation/report.html"] {
                #expect(FileManager.default.fileExists(atPath: "\(ck)/fold-\(k)/\(file)"), "fold-\(k)/\(file)")
            }
            let contents = try Checkpoint.read("\(ck)/fold-\(k)/best.safetensors")
            let config = try Evaluation.trainingConfig(contents)
            #expect(config.walkForward == .init(fold: k, folds: 3) && config.seed == 11 + UInt64(k))
            // `aitrader evaluate` re-derives the fold's own test block from the checkpoint.
            let again = try Evaluation(options: .init(part: .test, commission: 0.0002, resamples: 100, seed: 3))
                .run(contents, bars: TrainingFixture.bars(), backend: .cpu)
            #expect(again.samples == result.perFold[k].test.samples && again.metrics == result.perFold[k].metrics)
        }
        let folds = result.perFold
        // Expanding windows, test blocks disjoint and in time order, each after its own validation tail.
        #expect(folds[0].train.samples < folds[1].train.samples && folds[1].train.samples < folds[2].train.samples)
        #expect(zip(folds, folds.dropFirst()).allSatisfy { $0.test.end < $1.test.start })
        #expect(folds.allSatisfy { $0.train.end < $0.validation.start && $0.validation.end < $0.test.start })
        #expect(folds.allSatisfy { $0.train.start == folds[0].train.start })

        // Pooled: all folds' test samples; the pooled accuracy is the sample-weighted mean of the folds'.
        let n = folds.map(\.test.samples)
        #expect(result.pooled.samples == n.reduce(0, +))
        #expect(result.pooled.start == folds[0].test.start && result.pooled.end == folds[2].test.end)
        for name in ["model", "always_up", "previous_return", "logistic"] {
            let pooled = try #require(result.pooled.metrics[name]?["accuracy"]?.value)
            let weighted = zip(folds, n).reduce(0.0) { $0 + ($1.0.metrics[name]?["accuracy"]?.value ?? .nan) * Double($1.1) }
                / Double(result.pooled.samples)
            #expect(abs(pooled - weighted) < 1e-12, "\(name)")
        }
        #expect(Set(result.pooled.metrics.keys) == ["model", "always_up", "previous_return", "logistic", "base_rate"])
        let model = try #require(result.pooled.metrics["model"])
        for figure in ["accuracy", "log_loss", "brier", "ece"] {
            let e = try #require(model[figure]), v = try #require(e.value), lo = try #require(e.low), hi = try #require(e.high)
            #expect(v.isFinite && lo <= hi, "\(figure)")
        }
        let sharpe = try #require(result.pooled.trading.first { $0.name == "model" }?.sharpeInterval)
        #expect(sharpe.value != nil && (sharpe.low ?? 1) <= (sharpe.high ?? 0))
        #expect(Array(result.pooled.pairedTests.map(\.metric).prefix(2)) == ["accuracy", "log_loss"])
        #expect(result.pooled.reliability.reduce(0) { $0 + $1.count } == result.pooled.samples)

        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let pooled = object?["pooled"] as? [String: Any]
        #expect(pooled?["samples"] as? Int == result.pooled.samples && (object?["per_fold"] as? [Any])?.count == 3)
        #expect((((pooled?["metrics"] as? [String: Any])?["model"] as? [String: Any])?["accuracy"] as? [String: Any])?["value"] is Double)
        #expect(result.table.contains("pooled") && result.table.contains("fold 2"))

        // Determinism: the same config and seed, elsewhere, write the same walk_forward.json.
        let (_, _, other) = try Self.run(in: "walk-forward-b")
        #expect(other == json)
    }

    @Test func refusesDataTooShortForTheFolds() throws {
        let dir = TrainingFixture.directory("walk-forward-short")
        let config = try TrainingFixture.config(in: dir, epochs: 1)
        let wf = WalkForward(config: config, bars: TrainingFixture.bars(count: 300), folds: 30, evaluation: .init())
        do {
            _ = try wf.plans()
            Issue.record("30 folds of 300 bars accepted")
        } catch {
            #expect("\(error)".contains("too short for 30 walk-forward folds"), "\(error)")
        }
        #expect(throws: TrainingError.self) { try WalkForward(config: config, bars: TrainingFixture.bars(), folds: 1, evaluation: .init()).plans() }
        #expect(!FileManager.default.fileExists(atPath: config.checkpointDirectory + "/fold-0"))
    }
}
