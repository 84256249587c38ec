import Engine
import Foundation
import Testing
@testable import Models

/// Losses against scipy.stats.beta.logpdf and PyTorch autograd (tools/reference/model_fixtures.py, losses.safetensors).
@Suite struct LossTests {
    static let losses = Result { try Parity.file("losses.safetensors") }

    @Test func betaNLLMatchesSciPyPerSampleAndTorchGradients() throws {
        let f = try Self.losses.get()
        let alpha = try Parity.tensor(f, "beta.alpha"), beta = try Parity.tensor(f, "beta.beta")
        let labels = try Parity.tensor(f, "beta.label")
        let loss = BetaNLLLoss()
        let mean = try loss.forward(BetaPrediction(alpha: alpha, beta: beta), labels: labels)
        // Per-sample values against scipy: recompute each sample alone.
        let scipy = try f.floats("beta.nll_scipy")
        let a = try alpha.toArray(), b = try beta.toArray(), y = try labels.toArray()
        var worst = 0.0
        for i in a.indices {
            let single = BetaNLLLoss()
            let v = try single.forward(BetaPrediction(alpha: Tensor([a[i]], shape: [1], on: .cpu), beta: Tensor([b[i]], shape: [1], on: .cpu)),
                                       labels: Tensor([y[i]], shape: [1], on: .cpu))
            let e = abs(Double(v) - Double(scipy[i])) / max(1, abs(Double(scipy[i])))
            worst = max(worst, e)
        }
        #expect(worst < 1e-5, "per-sample NLL vs scipy.stats.beta.logpdf: \(worst)")
        let reference = try f.floats("beta.loss")[0]
        #expect(abs(mean - reference) <= 1e-5 * abs(reference))
        let (da, db) = try loss.backward()
        let ea = try Parity.expectClose(da, f, "beta.grad_alpha")
        let eb = try Parity.expectClose(db, f, "beta.grad_beta")
        Parity.report("BetaNLL", ["scipy per sample": worst, "grad_alpha": ea, "grad_beta": eb])
    }

    @Test func calibrationLossAndGradient() throws {
        let f = try Self.losses.get()
        let p = try f.floats("calibration.p").map(Double.init), y = try f.floats("calibration.label").map(Double.init)
        let (loss, gradient) = CalibrationLoss.evaluate(probabilities: p, labels: y, bins: 10)
        let reference = try f.floats("calibration.loss")[0]
        #expect(abs(Float(loss) - reference) <= 1e-6 * max(1, abs(reference)))
        let e = Parity.relativeError(gradient.map(Float.init), try f.floats("calibration.grad_p"))
        #expect(e < 1e-5)
        // Through alpha and beta: p = a / (a + b) with a = p, b = 1 - p.
        let cal = CalibrationLoss()
        let prediction = BetaPrediction(alpha: try Tensor(p.map(Float.init), shape: [p.count], on: .cpu),
                                        beta: try Tensor(p.map { Float(1 - $0) }, shape: [p.count], on: .cpu))
        let v = try cal.forward(prediction, labels: Parity.tensor(f, "calibration.label"))
        #expect(abs(v - reference) <= 1e-5 * max(1, abs(reference)))
        let (da, db) = try cal.backward(weight: 2)
        let ga = try da.toArray(), gb = try db.toArray()
        for i in p.indices {   // dp/da = b / (a + b)^2 = 1 - p, dp/db = -a / (a + b)^2 = -p
            #expect(abs(Double(ga[i]) - 2 * gradient[i] * (1 - p[i])) < 1e-5)
            #expect(abs(Double(gb[i]) + 2 * gradient[i] * p[i]) < 1e-5)
        }
        Parity.report("CalibrationLoss", ["grad_p": e])
    }

    @Test func dirichletNLLMatchesTorchDistributions() throws {
        let f = try Self.losses.get()
        let conc = try Parity.tensor(f, "dirichlet.conc")
        let regimes = try f.tensor("dirichlet.regime").int64s().map { Int($0) }
        let loss = DirichletNLLLoss(smoothing: 0.1)
        #expect(Parity.relativeError(try loss.smoothedTargets(regimes, classes: 3), try f.floats("dirichlet.target")) < 1e-6)
        let value = try loss.forward(concentration: conc, regimes: regimes)
        let reference = try f.floats("dirichlet.loss")[0]
        #expect(abs(value - reference) <= 1e-5 * max(1, abs(reference)))
        let e = try Parity.expectClose(loss.backward(), f, "dirichlet.grad_conc")
        Parity.report("DirichletNLL", ["grad_conc": e])
    }

    @Test func tradingLossCombinesAllTerms() throws {
        let f = try Self.losses.get()
        let weights = TradingLoss.Weights(direction: 1, calibration: 0.1, forecast: 0.5, regime: 0.2)
        #expect(weights == TradingLoss.Weights())   // the defaults are the fixture's weights
        let loss = TradingLoss(weights: weights)
        var output = ModelOutput(prediction: BetaPrediction(alpha: try Parity.tensor(f, "trading.alpha"),
                                                            beta: try Parity.tensor(f, "trading.beta")))
        output.forecast = try Parity.tensor(f, "trading.forecast")
        output.regime = try Parity.tensor(f, "trading.regime_conc")
        let targets = TradingTargets(labels: try Parity.tensor(f, "trading.label"),
                                     forecast: try Parity.tensor(f, "trading.forecast_target"),
                                     regimes: try f.tensor("trading.regime").int64s().map { Int($0) })
        let parts = try loss.forward(output, targets: targets)
        for (name, value) in [("direction", parts.direction), ("calibration", parts.calibration!),
                              ("forecast", parts.forecast!), ("regime", parts.regime!), ("total", parts.total)] {
            let reference = try f.floats(name == "total" ? "trading.total" : "trading.part.\(name)")[0]
            #expect(abs(value - reference) <= 1e-5 * max(1, abs(reference)), "\(name): \(value) vs \(reference)")
        }
        let g = try loss.backward()
        var errors: [String: Double] = [:]
        errors["alpha"] = try Parity.expectClose(g.alpha, f, "trading.grad_alpha")
        errors["beta"] = try Parity.expectClose(g.beta, f, "trading.grad_beta")
        errors["forecast"] = try Parity.expectClose(try #require(g.forecast), f, "trading.grad_forecast")
        errors["regime"] = try Parity.expectClose(try #require(g.regime), f, "trading.grad_regime_conc")
        Parity.report("TradingLoss", errors)
    }

    @Test func tradingLossWithoutOptionalTerms() throws {
        let loss = TradingLoss(weights: .init(calibration: 0))
        let out = ModelOutput(prediction: BetaPrediction(alpha: try Tensor([2, 3], shape: [2], on: .cpu),
                                                         beta: try Tensor([1, 4], shape: [2], on: .cpu)))
        let parts = try loss.forward(out, targets: TradingTargets(labels: try Tensor([1, 0], shape: [2], on: .cpu)))
        #expect(parts.calibration == nil && parts.forecast == nil && parts.regime == nil && parts.total == parts.direction)
        let g = try loss.backward()
        #expect(g.forecast == nil && g.regime == nil)
        #expect(throws: EngineError.self) {
            try loss.forward(out, targets: TradingTargets(labels: try Tensor([1, 0], shape: [2], on: .cpu), regimes: [0, 1]))
        }
    }
}
