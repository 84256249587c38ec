import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Testing
@testable import Training

/// A small real run: the repository's short_term feature set over a seeded random-walk series, a reduced-width
/// short_term network (dropout on, so the dropout stream matters), 3 epochs of at most 4 steps.
enum TrainingFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func directory(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-training-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func bars(count: Int = 900, seed: UInt64 = 7) -> BarSeries {
        var rng = SplitMix64(seed: seed)
        var close = 1.1, ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        for i in 0 ..< count {
            let u = Double(rng.next() >> 11) / Double(1 << 53) - 0.5
            let open = close
            close = open * (1 + 0.004 * u)
            ts.append(1_500_000_000_000 + Int64(i) * 3_600_000)
            o.append(open); c.append(close)
            h.append(max(open, close) * 1.0005); l.append(min(open, close) * 0.9995)
            v.append(1000 + Double(i % 17))
        }
        return BarSeries(symbol: "TEST", timeframe: .h1, timestamps: ts, open: o, high: h, low: l, close: c, volume: v)
    }

    /// Writes the small model config and a training config into `dir`; `extra` lines are appended to `training:`.
    static func config(in dir: String, epochs: Int = 3, learningRate: String = "3.0e-3", patience: Int = 15) throws -> TrainingConfig {
        let model = """
            model_type: short_term
            sequence_length: 16
            conv_channels: [4, 4, 6]
            lstm_hidden: 5
            attention_dim: 6
            attention_heads: 2
            fc_hidden: 4
            """
        // One model file for every run, so runs in different directories have the same configuration.
        let modelPath = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-training-\(getpid())-model.yaml").path
        try model.write(toFile: modelPath, atomically: true, encoding: .utf8)
        let yaml = """
            model: {type: short_term, config: \(modelPath)}
            profile: trader
            profiles: \(repository)/configs/features/profiles.yaml
            features: \(repository)/configs/features/short_term.yaml
            symbols: [TEST]
            label: {horizon: 4, dead_zone: 0.0}
            splits: {train: 0.7, validation: 0.15, test: 0.15, embargo: 4}
            training: {batch_size: 16, epochs: \(epochs), learning_rate: \(learningRate), patience: \(patience), max_batches_per_epoch: 4}
            checkpoints: {dir: \(dir)/ck, save_top_k: 2}
            seed: 11
            """
        try yaml.write(toFile: dir + "/train.yaml", atomically: true, encoding: .utf8)
        return try TrainingConfig.load(path: dir + "/train.yaml")
    }

    static func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return out
    }

    /// (The CPU backend's thread count is process-wide and only `EngineTests.ThreadCountTests` changes it; the
    /// trainer's results do not depend on it.)
    static func trainer(_ config: TrainingConfig) throws -> Trainer {
        let t = Trainer(plan: try TrainingPlan(config: config, bars: bars()), backend: .cpu)
        t.showProgress = false
        return t
    }
}

@Suite(.serialized) struct TrainerTests {
    @Test func twoRunsWithTheSameConfigWriteBitIdenticalCheckpoints() throws {
        let a = TrainingFixture.directory("same-a"), b = TrainingFixture.directory("same-b")
        var reports: [EpochReport] = []
        let ta = try TrainingFixture.trainer(try TrainingFixture.config(in: a))
        ta.onEpoch = { reports.append($0) }
        guard case .finished(let summary) = try ta.run() else { Issue.record("interrupted"); return }
        _ = try TrainingFixture.trainer(try TrainingFixture.config(in: b)).run()
        // The runs differ only in their checkpoint directory, which is not part of what a checkpoint records.
        let fa = try TrainingFixture.files(a + "/ck"), fb = try TrainingFixture.files(b + "/ck")
        #expect(Set(fa.keys) == Set(["last.safetensors", "best.safetensors"]).union(summary.topK.map { URL(fileURLWithPath: $0).lastPathComponent }))
        #expect(fa == fb)
        #expect(reports.count == 3 && summary.steps == 12 && summary.epochsRun == 3)
        #expect(reports.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite && $0.samplesPerSecond > 0 })
        #expect(summary.topK.count == 2)
    }

    @Test func anInterruptedRunResumedEndsBitIdenticalToAnUninterruptedOne() throws {
        let whole = TrainingFixture.directory("whole"), split = TrainingFixture.directory("split")
        _ = try TrainingFixture.trainer(try TrainingFixture.config(in: whole)).run()
        // Stop after the 6th step: mid-epoch 2 (4 steps per epoch).
        let first = try TrainingFixture.trainer(try TrainingFixture.config(in: split))
        var steps = 0
        first.shouldStop = { steps += 1; return steps == 6 }
        guard case .interrupted(let last, let epoch, let step) = try first.run() else { Issue.record("not interrupted"); return }
        #expect(epoch == 1 && step == 6)
        let resumed = try TrainingFixture.trainer(try TrainingFixture.config(in: split))
        guard case .finished = try resumed.run(resume: last) else { Issue.record("interrupted again"); return }
        #expect(try TrainingFixture.files(whole + "/ck") == TrainingFixture.files(split + "/ck"))
    }

    @Test func checkpointsCarryEverythingToPredictAndRefuseOtherFeatures() throws {
        let dir = TrainingFixture.directory("meta")
        let trainer = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1))
        _ = try trainer.run()
        let contents = try Checkpoint.read(dir + "/ck/best.safetensors")
        let plan = trainer.plan
        #expect(contents.metadata.featureNames == plan.featureSet.names)
        #expect(contents.metadata.scaler == plan.dataset.scaler)
        #expect(contents.configuration.inputFeatures == plan.featureSet.names.count)
        for key in ["label", "profile", "timeframe", "symbol", "data_range", "code_version", "training_config"] {
            #expect(contents.metadata.extra[key] != nil, "missing \(key)")
        }
        #expect(contents.metadata.extra["timeframe"] == "1h")
        #expect(contents.metadata.extra["label"] == #"{"kind":"direction","dead_zone":0,"horizon":4}"#)
        try contents.checkFeatures(plan.featureSet.names)
        var swapped = plan.featureSet.names
        swapped.swapAt(0, 1)
        #expect(throws: ModelError.self) { try contents.checkFeatures(swapped) }
        #expect(throws: ModelError.self) { try contents.checkFeatures(Array(plan.featureSet.names.dropLast())) }
        // A best checkpoint has no resume state; the model loads from it without the optimizer tensors.
        _ = try Checkpoint.load(dir + "/ck/last.safetensors", backend: .cpu)
        #expect(throws: TrainingError.self) { try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1)).run(resume: dir + "/ck/best.safetensors") }
    }

    @Test func resumingUnderAnotherConfigurationIsRefused() throws {
        let dir = TrainingFixture.directory("other")
        _ = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1)).run()
        let other = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 2, learningRate: "1.0e-3"))
        do {
            _ = try other.run(resume: dir + "/ck/last.safetensors")
            Issue.record("resumed under another config")
        } catch {
            #expect("\(error)".contains("another training configuration"))
        }
    }

    @Test func nonFiniteValuesStopWithTheStepAndTensorAndKeepTheLastGoodCheckpoint() throws {
        let dir = TrainingFixture.directory("nan")
        _ = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1)).run()
        let good = try TrainingFixture.files(dir + "/ck")
        // A learning rate of 1e38 overflows the weights within a few steps.
        var config = try TrainingFixture.config(in: dir, epochs: 1, learningRate: "1.0e38")
        config.checkpointDirectory = dir + "/ck"
        do {
            _ = try TrainingFixture.trainer(config).run()
            Issue.record("no error")
        } catch TrainingError.nonFinite(let step, _, let tensor, _) {
            #expect(step >= 1 && step <= 4)
            #expect(tensor.hasPrefix("output") || tensor.hasPrefix("gradient of") || tensor.hasPrefix("parameter"), "\(tensor)")
        }
        // The good run's files, overwritten only where the diverging run got through a whole epoch: none.
        #expect(try TrainingFixture.files(dir + "/ck") == good)
    }

    /// Early stopping: a learning rate too small to move the validation loss by min_delta stops the run after
    /// `patience` epochs without improvement; the top-k checkpoints are the best validation losses, best first.
    @Test func earlyStoppingAndTopKFollowTheValidationLoss() throws {
        let dir = TrainingFixture.directory("early")
        var config = try TrainingFixture.config(in: dir, epochs: 6, learningRate: "1.0e-12", patience: 2)
        config.minDelta = 0.5   // no epoch improves a Beta NLL by 0.5 at this learning rate
        let trainer = try TrainingFixture.trainer(config)
        var reports: [EpochReport] = []
        trainer.onEpoch = { reports.append($0) }
        guard case .finished(let summary) = try trainer.run() else { Issue.record("interrupted"); return }
        // Epoch 1 sets the best; epochs 2 and 3 do not improve it by min_delta: patience 2 stops after epoch 3.
        #expect(summary.stoppedEarly && summary.epochsRun == 3, "\(summary)")
        #expect(reports.map(\.improved) == [true, false, false] && reports.last?.stoppingEarly == true)
        #expect(reports.last?.line.hasSuffix("(early stop)") == true, "\(reports.last?.line ?? "")")
        #expect(summary.bestEpoch == 0 && summary.best == dir + "/ck/best.safetensors")
        // Top-k (k = 2): the two lowest validation losses, best first.
        let ranked = reports.sorted { $0.validationLoss < $1.validationLoss }.prefix(2).map(\.epoch)
        #expect(summary.topK.map { URL(fileURLWithPath: $0).lastPathComponent }
            == ranked.map { String(format: "epoch-%04d.safetensors", $0 + 1) }, "\(summary.topK) vs epochs \(ranked)")
        for path in summary.topK { #expect(FileManager.default.fileExists(atPath: path)) }
    }

    @Test func epochReportLine() {
        let r = EpochReport(epoch: 2, epochs: 100, trainLoss: 0.69521, validationLoss: 0.69314, validationAccuracy: 0.5134,
                            samplesPerSecond: 812.4, learningRate: 2.1e-5, improved: true, saved: [], stoppingEarly: false)
        #expect(r.line == "epoch   3/100  train loss 0.6952  val loss 0.6931  val acc 51.3%  812 samples/s  lr 2.10e-05  *")
    }
}
