import Common
import Engine
import Foundation
import Testing
@testable import Models

/// Training mode: dropout is active and reproducible, its backward matches finite differences of the loss with
/// the same dropout masks, and a few AdamW steps on a learnable signal reduce the loss.
@Suite struct TrainingModeTests {
    static func tiny(_ type: ModelType) -> ModelConfiguration {
        switch type {
        case .shortTerm:
            var c = ShortTermConfig()
            c.sequenceLength = 8; c.inputFeatures = 3; c.convChannels = [4, 5, 6]; c.lstmHidden = 4
            c.attentionDim = 6; c.attentionHeads = 2; c.fcHidden = 5
            c.convDropout = 0.2; c.lstmDropout = 0.3; c.fcDropout = 0.2
            return .shortTerm(c)
        case .mediumTerm:
            var c = MediumTermConfig()
            c.sequenceLength = 7; c.inputFeatures = 3; c.dModel = 6; c.attentionHeads = 2
            return .mediumTerm(c)
        case .longTerm:
            var c = LongTermConfig()
            c.sequenceLength = 12; c.inputFeatures = 3; c.forecastHorizon = 4; c.trendBlocks = 1; c.seasonalityBlocks = 1
            c.blockWidth = 6; c.blockLayers = 2; c.dModel = 6; c.encoderLayers = 1; c.attentionHeads = 2
            c.feedforward = 8; c.fusionHidden = 5; c.dropout = 0.25
            return .longTerm(c)
        }
    }

    static func batch(_ config: ModelConfiguration, size: Int, seed: UInt64) throws -> (ModelInput, [Float]) {
        var rng = SeededGenerator(seed: seed)
        let (l, f) = (config.sequenceLength, config.inputFeatures)
        var x: [Float] = [], labels: [Float] = [], close: [Float] = []
        for _ in 0 ..< size {
            let up = rng.unitFloat() < 0.5
            labels.append(up ? 1 : 0)
            for t in 0 ..< l {
                for j in 0 ..< f { x.append(0.5 * rng.normal() + (j == 0 ? (up ? 1 : -1) * Float(t) / Float(l) : 0)) }
                close.append((up ? 1 : -1) * (Float(t) / Float(l) - 0.5) + 0.1 * rng.normal())
            }
        }
        let input = ModelInput(features: try Tensor(x, shape: [size, l, f], on: .cpu),
                               close: config.modelType.needsClose ? try Tensor(close, shape: [size, l], on: .cpu) : nil)
        return (input, labels)
    }

    /// The types with dropout layers (medium_term has none: see `mediumTermHasNoDropout`).
    static let typesWithDropout: [ModelType] = [.shortTerm, .longTerm]

    @Test func typesWithDropoutAreExactlyThoseThatConfigureIt() {
        #expect(Set(Self.typesWithDropout) == Set(ModelType.allCases.filter { $0 != .mediumTerm }))
    }

    @Test(arguments: typesWithDropout)
    func dropoutIsActiveInTrainingAndOffInInference(_ type: ModelType) throws {
        let (modelSeed, batchSeed): (UInt64, UInt64) = (4, 1)
        let model = try HorizonModels.make(Self.tiny(type), backend: .cpu, seed: modelSeed)
        let (input, _) = try Self.batch(model.configuration, size: 2, seed: batchSeed)
        let a = try model.forward(input).prediction.values().alpha
        let b = try model.forward(input).prediction.values().alpha
        #expect(a != b, "two training passes draw different dropout masks (model seed \(modelSeed), batch seed \(batchSeed))")
        model.context.resetDropout(seed: 9)
        let c = try model.forward(input).prediction.values().alpha
        model.context.resetDropout(seed: 9)
        #expect(try model.forward(input).prediction.values().alpha == c, "same (seed, offset): same masks")
        model.training = false
        let d = try model.forward(input).prediction.values().alpha
        #expect(try model.forward(input).prediction.values().alpha == d)
    }

    /// medium_term has no dropout: training passes are deterministic (bit-identical to each other, whatever the
    /// dropout stream) and equal to inference.
    @Test func mediumTermHasNoDropout() throws {
        let (modelSeed, batchSeed): (UInt64, UInt64) = (4, 1)
        let model = try HorizonModels.make(Self.tiny(.mediumTerm), backend: .cpu, seed: modelSeed)
        #expect(model.training)
        let (input, _) = try Self.batch(model.configuration, size: 2, seed: batchSeed)
        let a = try model.forward(input).prediction.values()
        let b = try model.forward(input).prediction.values()
        model.context.resetDropout(seed: 9)
        let c = try model.forward(input).prediction.values()
        model.training = false
        let d = try model.forward(input).prediction.values()
        let seeds = "model seed \(modelSeed), batch seed \(batchSeed)"
        #expect(a.alpha == b.alpha && a.beta == b.beta, "two training passes differ (\(seeds))")
        #expect(a.alpha == c.alpha && a.beta == c.beta, "a dropout reseed changed the output (\(seeds))")
        #expect(a.alpha == d.alpha && a.beta == d.beta, "training and inference differ (\(seeds))")
    }

    /// Central differences of the BetaNLL loss (dropout masks replayed) against the backward pass, at the
    /// parameters with the largest gradients.
    @Test(arguments: ModelType.allCases)
    func backwardMatchesFiniteDifferencesWithDropout(_ type: ModelType) throws {
        let model = try HorizonModels.make(Self.tiny(type), backend: .cpu, seed: 8)
        let (input, labelValues) = try Self.batch(model.configuration, size: 3, seed: 2)
        let labels = try Tensor(labelValues, shape: [3], on: .cpu)
        let loss = BetaNLLLoss()
        func evaluate() throws -> Float {
            model.context.resetDropout(seed: 77)
            return try loss.forward(model.forward(input).prediction, labels: labels)
        }
        _ = try evaluate()
        try model.parameters.zeroGradients()
        let (da, db) = try loss.backward()
        try model.backward(OutputGradients(alpha: da, beta: db))
        let gradients = try #require(model.parameters.gradients).toArray()
        var values = try model.parameters.values.toArray()
        let picks = gradients.indices.sorted { abs(gradients[$0]) > abs(gradients[$1]) }.prefix(12)
        for i in picks {
            let h: Float = 2e-3 * max(1, abs(values[i]))
            let saved = values[i]
            values[i] = saved + h
            try model.parameters.values.copy(from: values)
            let up = try evaluate()
            values[i] = saved - h
            try model.parameters.values.copy(from: values)
            let down = try evaluate()
            values[i] = saved
            try model.parameters.values.copy(from: values)
            let numeric = (up - down) / (2 * h)
            let name = model.parameters.layout.specs.last { $0.offset <= i }!.name
            #expect(abs(numeric - gradients[i]) <= 2e-2 * abs(gradients[i]) + 1e-4,
                    "\(type.rawValue) \(name)[\(i)]: numeric \(numeric) vs backward \(gradients[i]) (model seed 8, batch seed 2, dropout seed 77)")
        }
    }

    @Test(arguments: ModelType.allCases)
    func adamWStepsReduceTheLoss(_ type: ModelType) throws {
        let model = try HorizonModels.make(Self.tiny(type), backend: .cpu, seed: 12)
        let optimizer = try AdamW(model.parameters, learningRate: 3e-3, weightDecay: 0)
        let loss = TradingLoss(weights: .init(calibration: 0.1))
        let (input, labelValues) = try Self.batch(model.configuration, size: 16, seed: 3)
        let targets = TradingTargets(labels: try Tensor(labelValues, shape: [16], on: .cpu))
        var history: [Float] = []
        for _ in 0 ..< 40 {
            try model.parameters.zeroGradients()
            history.append(try loss.forward(model.forward(input), targets: targets).total)
            try model.backward(loss.backward())
            try optimizer.step()
        }
        let first = history.prefix(5).reduce(0, +) / 5, last = history.suffix(5).reduce(0, +) / 5
        #expect(last < first - 0.05, "\(type.rawValue): loss \(first) -> \(last) (model seed 12, batch seed 3)")
    }
}
