import Common
import Engine
import Foundation
import Testing
@testable import Models

/// The three models against the PyTorch reference (tools/reference/models.py, model_fixtures.py): outputs,
/// extras, the BetaNLL loss and the gradient of every parameter and of the inputs, within 1e-4 relative.
@Suite struct ModelParityTests {
    @Test(arguments: ModelType.allCases)
    func inferenceFromAPyTorchCheckpointMatches(_ type: ModelType) throws {
        let io = try Parity.file("\(type.rawValue)_small_io.safetensors")
        let (model, metadata) = try Checkpoint.load(Parity.fixture("\(type.rawValue)_small.safetensors"), backend: .cpu,
                                                    expecting: type)
        #expect(!model.training)
        #expect(metadata.runID == "pytorch-reference-\(type.rawValue)-small")
        #expect(metadata.featureNames.count == model.configuration.inputFeatures)
        let out = try model.forward(Parity.input(io, type))
        let errors = try Self.compareOutputs(out, io, expected: Self.smallOutputs[type]!)
        Parity.report("\(type.rawValue) small forward", errors)
    }

    @Test(arguments: ModelType.allCases)
    func betaNLLGradientsMatchPyTorch(_ type: ModelType) throws {
        let io = try Parity.file("\(type.rawValue)_small_io.safetensors")
        let contents = try Checkpoint.read(Parity.fixture("\(type.rawValue)_small.safetensors"))
        let model = try HorizonModels.make(Parity.withoutDropout(contents.configuration), backend: .cpu, seed: 3)
        var weights: [String: [Float]] = [:]
        for (name, t) in contents.file.tensors { weights[name] = try t.floats() }
        try model.parameters.load(weights)
        #expect(model.training)

        let out = try model.forward(Parity.input(io, type))
        let loss = BetaNLLLoss()
        let value = try loss.forward(out.prediction, labels: Parity.tensor(io, "label"))
        let reference = try io.floats("loss")[0]
        #expect(abs(value - reference) <= 1e-4 * abs(reference), "loss \(value) vs \(reference)")
        let (dAlpha, dBeta) = try loss.backward()
        try model.parameters.zeroGradients()
        let inputs = try #require(try model.backward(OutputGradients(alpha: dAlpha, beta: dBeta), inputGradients: true))

        var errors: [String: Double] = [:]
        // A gradient that is zero in exact arithmetic (attention key biases: softmax is invariant to a shift shared
        // by all keys) is rounding noise on both sides; it is checked to be negligible instead of compared.
        let globalScale = try io.tensors.keys.filter { $0.hasPrefix("grad.") }
            .map { try io.floats($0).reduce(Float(0)) { max($0, abs($1)) } }.max() ?? 1
        for spec in model.parameters.layout.specs {
            let ours = try model.parameters.gradient(named: spec.name)
            let referenceScale = try io.floats("grad.\(spec.name)").reduce(Float(0)) { max($0, abs($1)) }
            if referenceScale < 1e-6 * globalScale {
                let oursScale = try ours.toArray().reduce(Float(0)) { max($0, abs($1)) }
                #expect(oursScale < 1e-5 * globalScale, "\(spec.name): zero gradient expected, got \(oursScale)")
                continue
            }
            errors[spec.name] = try Parity.expectClose(ours, io, "grad.\(spec.name)")
        }
        errors["x"] = try Parity.expectClose(inputs.features, io, "grad.x")
        if type.needsClose { errors["close"] = try Parity.expectClose(try #require(inputs.close), io, "grad.close") }
        #expect(errors.count >= model.parameters.layout.specs.count - 1)
        Parity.report("\(type.rawValue) small gradients", errors)
    }

    @Test(arguments: ModelType.allCases)
    func fullSizeForwardMatchesPyTorch(_ type: ModelType) throws {
        let io = try Parity.file("\(type.rawValue)_full_io.safetensors")
        let seedText = try #require(io.metadata["seed"])
        let seed = try #require(UInt64(seedText))
        let model = try HorizonModels.make(.defaults(type), backend: .cpu, trainable: false)
        try DeterministicWeights.fill(model.parameters, seed: seed)
        let out = try model.forward(Parity.input(io, type))
        let errors = try Self.compareOutputs(out, io, expected: Self.fullOutputs[type]!,
                                             context: "full-size, weight seed \(seed)")
        Parity.report("\(type.rawValue) full-size forward", errors)
    }

    /// The output tensors each fixture holds (model_fixtures.py): the small fixtures every output the model
    /// names, the full-size ones all but medium_term's variable_weights (left out for size).
    static let smallOutputs: [ModelType: Set<String>] = [
        .shortTerm: ["alpha", "beta", "attention"],
        .mediumTerm: ["alpha", "beta", "attention", "importance", "variable_weights"],
        .longTerm: ["alpha", "beta", "forecast", "regime"],
    ]
    static let fullOutputs: [ModelType: Set<String>] = [
        .shortTerm: ["alpha", "beta", "attention"],
        .mediumTerm: ["alpha", "beta", "attention", "importance"],
        .longTerm: ["alpha", "beta", "forecast", "regime"],
    ]
    /// Fixture tensors that are not model outputs: inputs, the loss's label and value, gradients.
    static func isOutput(_ key: String) -> Bool {
        !["x", "close", "label", "loss"].contains(key) && !key.hasPrefix("grad.")
    }

    /// Compares every output the fixture holds with the model's output of that name: the fixture's outputs must
    /// be exactly `expected`, and each of them must be among the model's outputs.
    static func compareOutputs(_ out: ModelOutput, _ io: SafetensorsFile, expected: Set<String>, context: String = "",
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Double] {
        let held = Set(io.tensors.keys.filter(isOutput))
        #expect(held == expected, "fixture outputs \(held.sorted()) \(context)", sourceLocation: sourceLocation)
        let produced = Dictionary(out.namedTensors.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        var errors: [String: Double] = [:]
        for name in held.sorted() {
            guard let tensor = produced[name] else {
                Issue.record("model has no output '\(name)' (it has \(produced.keys.sorted())) \(context)",
                             sourceLocation: sourceLocation)
                continue
            }
            errors[name] = try Parity.expectClose(tensor, io, name, sourceLocation: sourceLocation)
        }
        #expect(Set(errors.keys) == held, "compared \(errors.keys.sorted()) \(context)", sourceLocation: sourceLocation)
        return errors
    }
}
