import Common
import Engine
import Foundation
import MarketData
import Models
import Testing
@testable import Training

/// `Evaluation` end to end on a checkpoint the Trainer wrote from the fixture bars (`TrainingFixture`).
@Suite(.serialized) struct EvaluationTests {
    @Test func evaluatesATrainedCheckpointAndWritesItsFiles() throws {
        let dir = TrainingFixture.directory("evaluate")
        let trainer = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1))
        guard case .finished(let summary) = try trainer.run(), let best = summary.best else { Issue.record("no best"); return }
        let contents = try Checkpoint.read(best)
        // Training fitted the default calibration (platt) on the validation split's predictions.
        let calibration = try #require(contents.metadata.calibration)
        #expect(calibration.method == .platt && calibration.platt != nil
            && calibration.samples == min(trainer.plan.dataset.split.validation.count, 4 * 16))
        let bars = TrainingFixture.bars()
        let evaluation = Evaluation(options: .init(part: .test, commission: 0.0002, resamples: 200, seed: 5))
        let result = try evaluation.run(contents, bars: bars, backend: .cpu)

        let test = trainer.plan.dataset.split.test
        #expect(result.samples == test.count && result.predictions.count == test.count && result.split == "test")
        #expect(result.predictions.map(\.label) == test.map { trainer.plan.dataset.labels.direction[$0] == 1 ? 1 : 0 })
        for r in result.predictions {
            #expect(r.alpha > 0 && r.beta > 0 && abs(r.pUp - r.alpha / (r.alpha + r.beta)) < 1e-6)
            #expect(r.pUpCalibrated == calibration.apply(r.pUp))
            #expect((0 ... 1).contains(r.confidence))
        }
        let model = try #require(result.metrics["model"])
        for name in ["accuracy", "precision", "recall", "f1", "brier", "ece", "mce", "confidence_auc", "concentration_auc"] {
            let e = try #require(model[name], "\(name)")
            let v = try #require(e.value), lo = try #require(e.low), hi = try #require(e.high)
            #expect((0 ... 1).contains(v) && lo <= hi, "\(name) \(v) [\(lo), \(hi)]")
        }
        #expect(try #require(model["log_loss"]?.value) > 0)
        #expect(model["ece_plugin"]?.value != nil && model["ece_plugin"]?.low == nil)
        #expect(result.metrics["always_up"]?["log_loss"] == nil && result.metrics["base_rate"]?["accuracy"] == nil)
        #expect(Set(result.metrics.keys) == ["model", "model_calibrated", "always_up", "previous_return", "logistic", "base_rate"])
        #expect(result.metrics["model_calibrated"]?["ece"]?.value != nil && result.calibration == "platt")
        #expect(result.reliabilityCalibrated.reduce(0) { $0 + $1.count } == test.count)
        #expect(Array(result.pairedTests.map(\.metric).prefix(2)) == ["accuracy", "log_loss"])
        #expect(result.pairedTests.contains { $0.metric == "confidence_auc" && $0.baseline == "chance" })
        #expect(result.pairedTests.allSatisfy { ($0.pValue ?? 0) >= 0 && ($0.pValue ?? 0) <= 1 })
        #expect(result.reliability.count == 10 && result.reliability.reduce(0) { $0 + $1.count } == test.count)
        #expect(result.trading.map(\.name) == ["model", "model_calibrated", "model_confidence_scaled", "always_up", "previous_return", "logistic"])
        #expect(result.trading.allSatisfy { $0.maxDrawdown <= 0 && $0.turnover >= 0 && $0.equity.count == test.count })
        for t in result.trading {
            let ci = try #require(t.sharpeInterval), m = try #require(t.meanReturnInterval)
            #expect((ci.low ?? 1) <= (ci.high ?? 0) && (m.low ?? 1) <= (m.high ?? 0), "\(t.name)")
        }

        // The same evaluation twice: the same figures (seeded bootstrap, deterministic inference).
        let again = try evaluation.run(contents, bars: bars, backend: .cpu)
        #expect(again.metrics == result.metrics)

        let out = dir + "/evaluation"
        try EvaluationFiles.write(result, to: out)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/evaluation.json"))) as? [String: Any]
        #expect(json?["samples"] as? Int == test.count && json?["model_type"] as? String == "short_term")
        #expect((json?["reliability_calibrated"] as? [Any])?.count == 10 && json?["calibration"] as? String == "platt")
        let csv = try String(contentsOfFile: out + "/predictions.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "timestamp,p_up,p_up_calibrated,alpha,beta,confidence,label,return,next_return" && csv.count == test.count + 1)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Reliability diagram") && html.contains("calibrated (platt)") && !html.contains("<script")
            && !html.contains("src=\"http") && !html.contains("href=\"http"))
    }

    @Test func refusesBarsOrFeaturesOtherThanTheTrainingOnes() throws {
        let dir = TrainingFixture.directory("evaluate-refuse")
        _ = try TrainingFixture.trainer(try TrainingFixture.config(in: dir, epochs: 1)).run()
        let contents = try Checkpoint.read(dir + "/ck/best.safetensors")
        // Other bars: the recorded bar range is not in them.
        #expect(throws: TrainingError.self) { try Evaluation.dataset(contents, bars: TrainingFixture.bars(count: 900, seed: 8)[1 ..< 900]) }
        // A checkpoint recording other feature names.
        var file = contents.file
        var names = try JSONDecoder().decode([String].self, from: Data(file.metadata["feature_names"]!.utf8))
        names.swapAt(0, 1)
        file.metadata["feature_names"] = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        file.metadata.removeValue(forKey: "scaler")
        let other = try Checkpoint.contents(of: file, path: "other")
        #expect(throws: TrainingError.self) { try Evaluation.dataset(other, bars: TrainingFixture.bars()) }
        // Bars imported after training are cut to the recorded range: the same dataset as training's.
        let longer = TrainingFixture.bars(count: 950)
        let d = try Evaluation.dataset(contents, bars: longer)
        let bars = TrainingFixture.bars()
        let plan = try TrainingPlan(config: try TrainingFixture.config(in: dir, epochs: 1), bars: bars)
        #expect(d.split.test == plan.dataset.split.test && d.matrix.count == plan.dataset.matrix.count)
    }
}
