import Common
import Foundation
import Testing
@testable import Models

/// The combiner's formulas against numpy (tools/reference/ensemble_fixtures.py → Fixtures/ensemble_numpy.json,
/// written independently from the documented formulas), the worked example by hand, and the moment match.
@Suite struct EnsembleFormulaTests {
    struct File: Decodable {
        struct Model: Decodable { var alpha: Double; var beta: Double; var platt: [Double]? }
        struct Expected: Decodable {
            var p_raw, p, confidence, base_weight, weight: [Double]
            var mean, variance, alpha, beta, agreement, penalty, ensemble_confidence: Double
            var direction: Int
        }
        struct Case: Decodable {
            var models: [Model]
            var weights: [Double]
            var lambda, floor, scale, threshold: Double
            var expected: Expected
        }
        struct PerformanceCase: Decodable {
            struct Expected: Decodable { var hits: Int; var pnl, accuracy_edge, pnl_edge, multiplier: Double }
            var outcomes: [[Double]]
            var prior, sensitivity, pnl_share, min, max: Double
            var expected: Expected
        }
        var cases: [Case]
        var performance: [PerformanceCase]
    }

    static func fixture() throws -> File {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/ensemble_numpy", withExtension: "json"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    static func forecasts(_ c: File.Case) -> [HorizonForecast] {
        zip(ModelType.allCases, c.models).map { type, m in
            let calibration = m.platt.map {
                ProbabilityCalibration(method: .platt, platt: PlattScaling(a: $0[0], b: $0[1]), isotonic: nil, samples: 1, logLoss: [:])
            } ?? .identity
            return HorizonForecast(modelType: type, alpha: m.alpha, beta: m.beta, calibration: calibration, featureTime: 0, timeframe: "1h")
        }
    }

    /// Relative closeness for values computed by the same formulas in another order (a few ulps each, amplified at
    /// most by the moment match's division by V: 1e-10 leaves a wide margin).
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-10) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(b))
    }

    @Test func combinerMatchesNumpy() throws {
        let file = try Self.fixture()
        #expect(file.cases.count > 20)
        for (n, c) in file.cases.enumerated() {
            var config = EnsembleConfig()
            config.disagreementPenalty = c.lambda
            config.confidenceFloor = c.floor
            let decision = WeightDecision(weights: Dictionary(uniqueKeysWithValues: zip(ModelType.allCases, c.weights)),
                                          regime: .ranging, weightScale: c.scale, confidenceThreshold: c.threshold)
            let p = TechnicalEnsemble(config: config).combine(symbol: "X", time: 1, forecasts: Self.forecasts(c), decision: decision,
                                                              dataAge: 0)
            let e = c.expected
            for (i, v) in p.votes.enumerated() {
                #expect(Self.close(v.pUpRaw, e.p_raw[i]) && Self.close(v.pUp, e.p[i]) && Self.close(v.confidence, e.confidence[i]),
                        "case \(n) model \(i): \(v)")
                #expect(Self.close(v.baseWeight, e.base_weight[i]) && Self.close(v.weight, e.weight[i]), "case \(n) model \(i): \(v)")
            }
            #expect(Self.close(p.pUp, e.mean) && Self.close(p.alpha, e.alpha) && Self.close(p.beta, e.beta), "case \(n): \(p)")
            #expect(Self.close(p.agreement, e.agreement) && Self.close(p.disagreementPenalty, e.penalty), "case \(n)")
            #expect(Self.close(p.confidence, e.ensemble_confidence), "case \(n): \(p.confidence) vs \(e.ensemble_confidence)")
            #expect(p.direction == e.direction, "case \(n)")
        }
    }

    @Test func workedExampleByHand() {
        let f = [HorizonForecast(modelType: .shortTerm, alpha: 6, beta: 4, featureTime: 10, timeframe: "1h"),
                 HorizonForecast(modelType: .mediumTerm, alpha: 3.3, beta: 2.7, featureTime: 8, timeframe: "4h"),
                 HorizonForecast(modelType: .longTerm, alpha: 1.2, beta: 2.8, featureTime: 0, timeframe: "1d")]
        let decision = WeightDecision(weights: [.shortTerm: 0.3, .mediumTerm: 0.35, .longTerm: 0.35], regime: .trending,
                                      confidenceThreshold: 0.05)
        let p = TechnicalEnsemble().combine(symbol: "EURUSD", time: 11, forecasts: f, decision: decision, dataAge: 1)
        // short: |2·0.6 − 1| · (1 − 2 sqrt(0.24 / 11))
        #expect(Self.close(p.votes[0].confidence, 0.2 * (1 - 2 * (0.24 / 11).squareRoot()), 1e-14))
        let raw = [0.3 * p.votes[0].confidence, 0.35 * p.votes[1].confidence, 0.35 * p.votes[2].confidence]
        let w = raw.map { $0 / raw.reduce(0, +) }
        let m = w[0] * 0.6 + w[1] * 0.55 + w[2] * 0.3
        #expect(Self.close(p.pUp, m, 1e-14))
        #expect(abs(p.pUp - 0.42364) < 1e-5 && abs(p.alpha - 1.45226) < 1e-5 && abs(p.beta - 1.97578) < 1e-5)
        #expect(abs(p.agreement - 0.56306) < 1e-5 && abs(p.disagreementPenalty - 0.43694) < 1e-5)
        #expect(abs(p.confidence - 0.045604) < 1e-6 && p.direction == 0)
        #expect(p.votes.map(\.direction) == [1, 1, -1] && p.votes.map(\.featureTime) == [10, 8, 0] && p.regime == .trending)
        // Below the threshold raise: τ = 0.04 lets it through, downward.
        var low = decision
        low.confidenceThreshold = 0.04
        #expect(TechnicalEnsemble().combine(symbol: "EURUSD", time: 11, forecasts: f, decision: low, dataAge: 1).direction == -1)
    }

    /// The matched Beta's mean and variance are the mixture's: E = alpha / kappa, Var = alpha beta / (kappa² (kappa + 1)).
    @Test func momentMatchedBetaKeepsMeanAndVariance() {
        var rng = SplitMix64(seed: 9)
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        for _ in 0..<200 {
            let n = 1 + Int(rng.next() % 4)
            let p = (0..<n).map { _ in 0.01 + 0.98 * u() }, kappa = (0..<n).map { _ in 0.05 + 200 * u() }
            let raw = (0..<n).map { _ in u() + 1e-3 }, w = raw.map { $0 / raw.reduce(0, +) }
            let mix = BetaMixture(means: p, concentrations: kappa, weights: w)
            // Mixture moments by the definition: E[X] = Σ w E_i, E[X²] = Σ w (Var_i + E_i²).
            let mean = zip(w, p).reduce(0) { $0 + $1.0 * $1.1 }
            var second = 0.0
            for i in 0..<n {
                let a = p[i] * kappa[i], b = (1 - p[i]) * kappa[i]
                second += w[i] * (a * b / (kappa[i] * kappa[i] * (kappa[i] + 1)) + p[i] * p[i])
            }
            let variance = second - mean * mean
            let a = mix.alpha, b = mix.beta, k = a + b
            #expect(mix.concentration > 0)
            #expect(Self.close(a / k, mean, 1e-12), "mean")
            #expect(abs(a * b / (k * k * (k + 1)) - variance) <= 1e-9 * variance + 1e-15, "variance \(a * b / (k * k * (k + 1))) vs \(variance)")
        }
        // One component: the matched Beta is the component itself.
        let one = BetaMixture(means: [0.7], concentrations: [5], weights: [1])
        #expect(Self.close(one.alpha, 3.5, 1e-12) && Self.close(one.beta, 1.5, 1e-12))
    }

    @Test func performanceMultipliersMatchNumpy() throws {
        for c in try Self.fixture().performance {
            var config = EnsembleConfig()
            config.performance.priorTrades = c.prior
            config.performance.sensitivity = c.sensitivity
            config.performance.pnlShare = c.pnl_share
            config.performance.minMultiplier = c.min
            config.performance.maxMultiplier = c.max
            var calc = DynamicWeightCalculator(baseWeights: config.baseWeights, lookbackTrades: 50, rules: config)
            for o in c.outcomes { calc.record(model: .mediumTerm, direction: Int(o[0]), realizedReturn: o[1]) }
            let p = calc.performance(.mediumTerm)
            #expect(p.trades == c.outcomes.count && p.hits == c.expected.hits)
            #expect(Self.close(p.pnl, c.expected.pnl, 1e-12) && Self.close(p.accuracyEdge, c.expected.accuracy_edge, 1e-12))
            #expect(Self.close(p.pnlEdge, c.expected.pnl_edge, 1e-12) && Self.close(p.multiplier, c.expected.multiplier, 1e-12))
        }
    }

    @Test func codableRoundTripWithSnakeCaseKeys() throws {
        let f = [HorizonForecast(modelType: .shortTerm, alpha: 6, beta: 4, featureTime: 10, timeframe: "1h")]
        let p = TechnicalEnsemble().combine(symbol: "EURUSD", time: 11, forecasts: f,
                                            decision: WeightDecision(weights: [.shortTerm: 1], regime: .ranging, adx: 18.5),
                                            dataAge: 3)
        let data = try JSONEncoder().encode(p)
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"p_up\"", "\"disagreement_penalty\"", "\"confidence_threshold\"", "\"volatility_percentile\"", "\"data_age\"",
                    "\"p_up_raw\"", "\"base_weight\"", "\"feature_time\"", "\"model_type\":\"short_term\"", "\"regime\":\"ranging\""] {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        #expect(try JSONDecoder().decode(EnsemblePrediction.self, from: data) == p)
    }
}
