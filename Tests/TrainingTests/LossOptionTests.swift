import Common
import Engine
import Foundation
import Models
import Testing
@testable import Training

/// The config's `loss` (beta_nll | evidential | beta_nll_rank), the rank targets, training with each loss, and the
/// per-layer-group gradient norms the trainer reports.
@Suite(.serialized) struct LossOptionTests {
    @Test func lossKeyParsesBothFormsAndRoundTrips() throws {
        let scalar = try TrainingConfigTests.parse("model: {type: short_term}\nloss: beta_nll_rank\n")
        #expect(scalar.loss == LossConfig(kind: .betaNLLRank))
        let mapping = try TrainingConfigTests.parse(
            "model: {type: short_term}\nloss: {type: evidential, evidence_regularizer: 0.5, annealing_epochs: 4}\n")
        #expect(mapping.loss == LossConfig(kind: .evidential, evidenceRegularizer: 0.5, annealingEpochs: 4))
        #expect(try TrainingConfigTests.parse("model: {type: short_term}\n").lossConfig.kind == .betaNLL)
        let dir = TrainingFixture.directory("loss-yaml")
        for config in [scalar, mapping] {
            try config.yaml.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
            #expect(try TrainingConfig.load(path: dir + "/c.yaml") == config)
        }
    }

    @Test func badLossValuesNameFileLineAndKey() {
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: focal\n")
            == "t.yaml:2:7: 'loss': unknown loss 'focal' (expected beta_nll, evidential, beta_nll_rank)")
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: {type: hinge}\n").hasPrefix("t.yaml:2:14: 'loss.type': unknown loss 'hinge'"))
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: {type: evidential, evidence_regularizer: -1}\n")
            .contains("'loss.evidence_regularizer': must be at least 0"))
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: {type: beta_nll, annealing_epochs: 3}\n")
            .contains("'loss.annealing_epochs': applies to loss evidential only"))
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: {type: evidential, weight: 1}\n").contains("unknown key"))
        #expect(TrainingConfigTests.message("model: {type: short_term}\nloss: {evidence_regularizer: 1}\n").contains("'type'"))
        #expect(TrainingConfigTests.message("model: {type: short_term}\ntraining: {log_every_steps: 0}\n")
            .contains("'training.log_every_steps': must be at least 1"))
    }

    @Test func annealingFollowsSensoy() {
        let l = LossConfig(kind: .evidential, evidenceRegularizer: 0.8, annealingEpochs: 10)
        #expect(l.evidenceRegularizer(epoch: 0) == 0)
        #expect(abs(l.evidenceRegularizer(epoch: 5) - 0.4) < 1e-7)
        #expect(l.evidenceRegularizer(epoch: 10) == 0.8 && l.evidenceRegularizer(epoch: 40) == 0.8)
        #expect(l.validationRegularizer == 0.8)
        #expect(LossConfig(kind: .evidential, annealingEpochs: 0).evidenceRegularizer(epoch: 0) == 1)
        #expect(LossConfig(kind: .betaNLL).evidenceRegularizer(epoch: 20) == 0)
    }

    @Test func theDefaultLossAndLoggingIntervalLeaveTheRecordedConfigUnchanged() throws {
        var config = try TrainingConfigTests.parse("model: {type: short_term}\n")
        let before = TrainingPlan.fingerprint(config)
        config.loss = LossConfig(kind: .betaNLL)
        config.logEverySteps = 7
        #expect(TrainingPlan.fingerprint(config) == before)
        config.loss = LossConfig(kind: .evidential)
        #expect(TrainingPlan.fingerprint(config) != before)
    }

    @Test func ranksAreMidRanksOfTheTrainingReturns() {
        let r = ReturnRanks(trainingReturns: [-0.02, 0.0, 0.01, 0.03, .nan])
        #expect(r.rank(0.01) == 0.625)
        #expect(r.rank(-1) == 0 && r.rank(1) == 1)
        #expect(r.rank(0.005) == 0.5)
        #expect(ReturnRanks(trainingReturns: [1, 1, 1]).rank(1) == 0.5)
    }

    @Test(arguments: ["evidential", "beta_nll_rank"])
    func eachLossTrainsAndResumesBitIdentically(loss: String) throws {
        let a = TrainingFixture.directory("loss-\(loss)-a"), b = TrainingFixture.directory("loss-\(loss)-b")
        var ca = try TrainingFixture.config(in: a), cb = try TrainingFixture.config(in: b)
        ca.loss = LossConfig(kind: LossConfig.Kind(rawValue: loss)!, evidenceRegularizer: 0.5, annealingEpochs: 2)
        cb.loss = ca.loss
        var reports: [EpochReport] = []
        let ta = try TrainingFixture.trainer(ca)
        ta.onEpoch = { reports.append($0) }
        guard case .finished(let summary) = try ta.run() else { Issue.record("interrupted"); return }
        #expect(reports.count == 3 && reports.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite })
        // Interrupted after 5 steps and resumed: the same files.
        let tb = try TrainingFixture.trainer(cb)
        var steps = 0
        tb.shouldStop = { steps += 1; return steps == 5 }
        guard case .interrupted(let last, _, _) = try tb.run() else { Issue.record("not interrupted"); return }
        _ = try TrainingFixture.trainer(cb).run(resume: last)
        #expect(try TrainingFixture.files(a + "/ck") == TrainingFixture.files(b + "/ck"))
        let contents = try Checkpoint.read(try #require(summary.best))
        #expect(try Evaluation.trainingConfig(contents).loss == ca.loss)
    }

    @Test func gradientNormsPerGroupAddUpToTheGlobalNorm() throws {
        let dir = TrainingFixture.directory("grad-norms")
        var config = try TrainingFixture.config(in: dir, epochs: 1)
        config.logEverySteps = 2
        let trainer = try TrainingFixture.trainer(config)
        var reports: [GradientNormReport] = []
        trainer.onGradientNorms = { reports.append($0) }
        _ = try trainer.run()
        #expect(reports.map(\.step) == [2, 4])
        for r in reports {
            #expect(r.groups.map(\.name) == ["convs", "lstm", "proj", "attn", "norm", "fc", "head"])
            let total = r.groups.reduce(0) { $0 + $1.norm * $1.norm }.squareRoot()
            #expect(abs(total - r.global) <= 1e-5 * r.global, "\(total) vs \(r.global)")
        }
        let metrics = TrainingTracking.metrics(reports[0])
        #expect(metrics.map(\.key).prefix(2) == ["grad_norm/global", "grad_norm/convs"] && metrics.allSatisfy { $0.step == 2 })
        // Logging does not change the weights.
        let other = TrainingFixture.directory("grad-norms-off")
        var plain = try TrainingFixture.config(in: other, epochs: 1)
        plain.logEverySteps = 2
        _ = try TrainingFixture.trainer(plain).run()
        #expect(try TrainingFixture.files(dir + "/ck") == TrainingFixture.files(other + "/ck"))
    }

    @Test func layoutGroupsMergeConsecutiveParameters() throws {
        var layout = ParameterLayout()
        _ = try Linear(3, 2, name: "fc", layout: &layout)
        _ = try Linear(2, 2, name: "head.linear", layout: &layout)
        _ = try layout.declare("fc.extra", shape: [4], initializer: .constant(0))
        let groups = layout.groups
        #expect(groups.map(\.name) == ["fc", "head"])
        #expect(groups[0].ranges == [0 ..< 8, 14 ..< 18] && groups[1].ranges == [8 ..< 14] && groups[0].count == 12)
    }
}
