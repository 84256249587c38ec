import Engine
import Foundation
import Testing
@testable import Models

/// The evidential Beta-Bernoulli loss and the rank-target BetaNLL against scipy 1.17.1
/// (tools/reference/loss_fixtures.py → Fixtures/evidential_loss.json: betabinom log pmf, gammaln/digamma KL checked
/// by quadrature, gradients by central differences in float64).
///
/// Tolerances: the kernel evaluates in double from the same float32 inputs and rounds each per-sample value to
/// float32 (relative 6e-8); the reference gradients are central differences with h = 1e-6 relative, whose error
/// is about h² × third derivative + 1e-16 / h ≈ 1e-10 relative here; 1e-5 relative (max(1, |v|)) leaves room for
/// float32 rounding of values up to ~1e2 in the gradients near alpha = 0.05.
@Suite struct EvidentialLossTests {
    struct Case: Decodable {
        var alpha, beta, y, nll, kl: Double
        var dnll_dalpha, dnll_dbeta, dkl_dalpha, dkl_dbeta: Double
    }
    struct RankCase: Decodable { var alpha, beta, rank, nll: Double }
    struct File: Decodable {
        var scipy: String
        var kl_quad_error: Double
        var cases: [Case]
        var rank_epsilon: Double
        var rank_cases: [RankCase]
    }

    static func fixture() throws -> File {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/evidential_loss", withExtension: "json"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    static func relative(_ got: [Float], _ want: [Double]) -> Double {
        zip(got, want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? .infinity
    }

    @Test func kernelValuesAndGradientsMatchSciPy() throws {
        let file = try Self.fixture()
        #expect(file.scipy == "1.17.1")
        #expect(file.kl_quad_error < 1e-6, "the reference KL agrees with quadrature")
        let c = file.cases, n = c.count
        let alpha = try Tensor(c.map { Float($0.alpha) }, shape: [n], on: .cpu)
        let beta = try Tensor(c.map { Float($0.beta) }, shape: [n], on: .cpu)
        let y = try Tensor(c.map { Float($0.y) }, shape: [n], on: .cpu)
        let nll = try Tensor(zeros: [n], on: .cpu), kl = try Tensor(zeros: [n], on: .cpu)
        let backend = Backend.cpu
        try backend.evidentialBetaForward(nll: nll, kl: kl, alpha: alpha, beta: beta, y: y, count: n)
        #expect(Self.relative(try nll.toArray(), c.map(\.nll)) < 1e-6)
        #expect(Self.relative(try kl.toArray(), c.map(\.kl)) < 1e-6)
        // ∂nll alone (dkl nil), then ∂kl alone (dnll zero).
        let ones = try Tensor([Float](repeating: 1, count: n), shape: [n], on: .cpu), zero = try Tensor(zeros: [n], on: .cpu)
        var da = try Tensor(zeros: [n], on: .cpu), db = try Tensor(zeros: [n], on: .cpu)
        try backend.evidentialBetaBackward(dAlpha: da, dBeta: db, dNLL: ones, dKL: nil, alpha: alpha, beta: beta, y: y, count: n)
        #expect(Self.relative(try da.toArray(), c.map(\.dnll_dalpha)) < 1e-5)
        #expect(Self.relative(try db.toArray(), c.map(\.dnll_dbeta)) < 1e-5)
        da = try Tensor(zeros: [n], on: .cpu)
        db = try Tensor(zeros: [n], on: .cpu)
        try backend.evidentialBetaBackward(dAlpha: da, dBeta: db, dNLL: zero, dKL: ones, alpha: alpha, beta: beta, y: y, count: n)
        #expect(Self.relative(try da.toArray(), c.map(\.dkl_dalpha)) < 1e-5)
        #expect(Self.relative(try db.toArray(), c.map(\.dkl_dbeta)) < 1e-5)
    }

    @Test func lossMeansAndWeightedGradients() throws {
        let c = try Self.fixture().cases, n = c.count
        let prediction = BetaPrediction(alpha: try Tensor(c.map { Float($0.alpha) }, shape: [n], on: .cpu),
                                        beta: try Tensor(c.map { Float($0.beta) }, shape: [n], on: .cpu))
        let labels = try Tensor(c.map { Float($0.y) }, shape: [n], on: .cpu)
        let loss = EvidentialBetaLoss()
        let lambda: Float = 0.7, weight: Float = 2
        let (nll, kl) = try loss.forward(prediction, labels: labels, regularizer: lambda)
        let meanNLL = c.map(\.nll).reduce(0, +) / Double(n), meanKL = c.map(\.kl).reduce(0, +) / Double(n)
        #expect(abs(Double(nll) - meanNLL) <= 1e-5 * max(1, meanNLL))
        #expect(abs(Double(kl) - meanKL) <= 1e-5 * max(1, meanKL))
        let (da, db) = try loss.backward(weight: weight)
        let scale = Double(weight) / Double(n), l = Double(lambda)
        #expect(Self.relative(try da.toArray(), c.map { scale * ($0.dnll_dalpha + l * $0.dkl_dalpha) }) < 1e-6)
        #expect(Self.relative(try db.toArray(), c.map { scale * ($0.dnll_dbeta + l * $0.dkl_dbeta) }) < 1e-6)
        // Through TradingLoss: total = nll + λ kl (direction weight 1, calibration off).
        let trading = TradingLoss(weights: .init(calibration: 0), objective: .evidential)
        trading.evidenceRegularizer = lambda
        let parts = try trading.forward(ModelOutput(prediction: prediction), targets: TradingTargets(labels: labels))
        #expect(abs(Double(parts.total) - (meanNLL + l * meanKL)) <= 1e-5 * max(1, meanNLL + l * meanKL))
        #expect(parts.evidence != nil)
    }

    @Test func misleadingEvidenceIsPulledToOne() throws {
        // y = 1: KL = log β + 1/β − 1, zero at β = 1, positive on both sides; ∂/∂α = 0.
        let alpha = try Tensor([5, 5, 5], shape: [3], on: .cpu), beta = try Tensor([0.5, 1, 4], shape: [3], on: .cpu)
        let y = try Tensor([1, 1, 1], shape: [3], on: .cpu)
        let nll = try Tensor(zeros: [3], on: .cpu), kl = try Tensor(zeros: [3], on: .cpu)
        try Backend.cpu.evidentialBetaForward(nll: nll, kl: kl, alpha: alpha, beta: beta, y: y, count: 3)
        let k = try kl.toArray()
        for (value, b) in zip(k, [0.5, 1.0, 4.0]) { #expect(abs(Double(value) - (log(b) + 1 / b - 1)) < 1e-6) }
        #expect(k[1] == 0 && k[0] > 0 && k[2] > 0)
    }

    @Test func rankTargetBetaNLLMatchesSciPy() throws {
        let file = try Self.fixture()
        for c in file.rank_cases {
            let loss = BetaNLLLoss(labelEpsilon: Float(file.rank_epsilon))
            let v = try loss.forward(BetaPrediction(alpha: Tensor([Float(c.alpha)], shape: [1], on: .cpu),
                                                    beta: Tensor([Float(c.beta)], shape: [1], on: .cpu)),
                                     labels: Tensor([Float(c.rank)], shape: [1], on: .cpu))
            #expect(abs(Double(v) - c.nll) <= 1e-5 * max(1, abs(c.nll)), "rank \(c.rank)")
        }
    }
}
