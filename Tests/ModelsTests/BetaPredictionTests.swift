import Common
import Engine
import Testing
@testable import Models

/// The robot's view of a Beta prediction (models.md definitions).
@Suite struct BetaPredictionTests {
    @Test func definitionsOfTheDesign() {
        let c = ConfidentPrediction(alpha: 8, beta: 2)
        #expect(c.direction == 1)
        #expect(abs(c.probability - 0.8) < 1e-7)
        #expect(c.concentration == 10)
        let variance = 8.0 * 2 / (100 * 11)
        #expect(abs(Double(c.confidence) - (1 - variance.squareRoot() / 0.5)) < 1e-6)
        #expect(ConfidentPrediction(alpha: 1, beta: 3).direction == -1)
        #expect(ConfidentPrediction(alpha: 2.5, beta: 2.5).direction == 0)
        // Beta(1, 1) is uniform: std sqrt(1/12) = 0.289 -> confidence 0.42; a U-shaped Beta goes to 0.
        #expect(abs(ConfidentPrediction(alpha: 1, beta: 1).confidence - Float(1 - (1.0 / 12).squareRoot() / 0.5)) < 1e-6)
        #expect(ConfidentPrediction(alpha: 0.001, beta: 0.001).confidence < 0.002)   // std -> 0.5 as alpha, beta -> 0
        #expect(ConfidentPrediction(alpha: 5000, beta: 5000).confidence > 0.98)
    }

    @Test func predictWithConfidenceRunsTheModel() throws {
        var config = MediumTermConfig()
        config.sequenceLength = 6
        config.inputFeatures = 3
        config.dModel = 8
        config.attentionHeads = 2
        let model = try MediumTermModel(config, backend: .cpu, seed: 5, trainable: false)
        #expect(!model.training)
        let x = try Tensor((0 ..< 2 * 6 * 3).map { Float($0 % 7) / 7 - 0.4 }, shape: [2, 6, 3], on: .cpu)
        let predictions = try model.predictWithConfidence(ModelInput(features: x))
        #expect(predictions.count == 2)
        for p in predictions {
            #expect(p.alpha > 1e-3 && p.beta > 1e-3)
            #expect((0 ... 1).contains(p.confidence) && (0 ... 1).contains(p.probability))
        }
        let ranked = try model.featureImportance(names: ["rsi", "atr", "ret"])
        #expect(ranked.count == 3 && abs(ranked.map(\.importance).reduce(0, +) - 1) < 1e-5)
        #expect(ranked[0].importance >= ranked[2].importance)
        #expect(throws: EngineError.self) { try model.forward(ModelInput(features: try Tensor(zeros: [2, 5, 3], on: .cpu))) }
    }

    @Test(arguments: ModelType.allCases)
    func parameterCountsOfTheDesignSizes(_ type: ModelType) throws {
        // Same counts as the PyTorch reference modules (sum of p.numel()).
        let expected: [ModelType: Int] = [.shortTerm: 3_367_490, .mediumTerm: 343_842, .longTerm: 1_688_197]
        let model = try HorizonModels.make(.defaults(type), backend: .cpu, trainable: false)
        #expect(model.parameterCount == expected[type])
    }
}
