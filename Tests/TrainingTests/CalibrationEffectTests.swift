import Common
import Foundation
import Models
import Testing
@testable import Training

/// Post-hoc calibration on a deliberately biased predictor, judged on held-out data: the true probability q of
/// "up" is uniform on [0.02, 0.98], the label is Bernoulli(q) and the predictor says p = 0.5 + 0.2 (q − 0.5) (the
/// shape of the BetaNLL networks: right ordering, pulled towards 0.5). Each method is fitted on 4000 samples and
/// must lower ECE and log loss on 4000 others; the training config picks the method.
@Suite struct CalibrationEffectTests {
    static func sample(_ n: Int, rng: inout SplitMix64) -> (p: [Double], y: [Int]) {
        var p: [Double] = [], y: [Int] = []
        for _ in 0 ..< n {
            let q = 0.02 + 0.96 * Double(rng.next() >> 11) / Double(1 << 53)
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            p.append(0.5 + 0.2 * (q - 0.5))
            y.append(u < q ? 1 : 0)
        }
        return (p, y)
    }

    @Test func calibrationLowersECEAndLogLossOnHeldOutData() throws {
        var rng = SplitMix64(seed: 20_240_611)
        let fit = Self.sample(4000, rng: &rng), held = Self.sample(4000, rng: &rng)
        let raw = ClassificationMetrics(p: held.p, y: held.y)
        #expect(raw.ece > 0.1)   // the bias is large: p within [0.4, 0.6] for outcomes from 2 % to 98 %
        for method in [CalibrationMethod.platt, .temperature, .isotonic] {
            let c = try ProbabilityCalibration.fit(method, p: fit.p, y: fit.y)
            let after = ClassificationMetrics(p: c.apply(held.p), y: held.y)
            #expect(after.ece < raw.ece / 3, "\(method): ECE \(raw.ece) -> \(after.ece)")
            #expect(after.logLoss < raw.logLoss - 0.02, "\(method): log loss \(raw.logLoss) -> \(after.logLoss)")
            // Temperature keeps every call (σ(a · logit p) > 0.5 iff p > 0.5); the others only move the threshold.
            #expect(method == .temperature ? after.accuracy == raw.accuracy : abs(after.accuracy - raw.accuracy) < 0.01)
        }
        // Platt recovers the map: logit(q) ≈ logit(0.5 + 0.2 (q − 0.5)) · a, so a ≈ 5 near q = 0.5, b ≈ 0.
        let platt = try #require(try ProbabilityCalibration.fit(.platt, p: fit.p, y: fit.y).platt)
        #expect(platt.a > 3.5 && platt.a < 7 && abs(platt.b) < 0.15, "a \(platt.a), b \(platt.b)")
        #expect(ProbabilityCalibration.identity.apply(held.p) == held.p)
    }

    @Test func theTrainingConfigChoosesTheMethod() throws {
        let dir = TrainingFixture.directory("calibration-config")
        var config = try TrainingFixture.config(in: dir)
        #expect(config.calibration == nil && config.calibrationMethod == .platt)
        let plain = TrainingPlan.fingerprint(config)
        #expect(!plain.contains("calibration"))   // runs from before the key keep their recorded config
        let yaml = try String(contentsOfFile: dir + "/train.yaml", encoding: .utf8)
        for method in CalibrationMethod.allCases {
            try (yaml + "\ncalibration: \(method.rawValue)\n").write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
            config = try TrainingConfig.load(path: dir + "/c.yaml")
            #expect(config.calibrationMethod == method)
            #expect((TrainingPlan.fingerprint(config) == plain) == (method == .platt))
            try config.yaml.write(toFile: dir + "/back.yaml", atomically: true, encoding: .utf8)
            #expect(try TrainingConfig.load(path: dir + "/back.yaml") == config)
        }
        try (yaml + "\ncalibration: sigmoid\n").write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        #expect(throws: TrainingError.self) { try TrainingConfig.load(path: dir + "/bad.yaml") }
    }

    @Test func bestCarriesTheChosenCalibrationFittedOnValidation() throws {
        let dir = TrainingFixture.directory("calibration-isotonic")
        var config = try TrainingFixture.config(in: dir, epochs: 1)
        config.calibration = .isotonic
        let trainer = try TrainingFixture.trainer(config)
        guard case .finished(let summary) = try trainer.run(), let best = summary.best else { Issue.record("no best"); return }
        let meta = try Checkpoint.read(best).metadata
        let c = try #require(meta.calibration)
        #expect(c.method == .isotonic && c.isotonic != nil && c.logLoss[.none] != nil)
        #expect(try Checkpoint.read(summary.last).metadata.calibration == c)
    }
}
