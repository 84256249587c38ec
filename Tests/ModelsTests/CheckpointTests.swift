import Common
import Engine
import Foundation
import Testing
@testable import Models

/// Checkpoints: exact round trips, metadata, and clear refusals of the wrong model type, shape or file.
@Suite struct CheckpointTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-models-\(getpid())-\(name)").path
    }

    static func smallShortTerm() -> ShortTermConfig {
        var c = ShortTermConfig()
        c.sequenceLength = 8; c.inputFeatures = 3; c.convChannels = [4, 4, 6]; c.lstmHidden = 5
        c.attentionDim = 6; c.attentionHeads = 2; c.fcHidden = 4
        return c
    }

    static let metadata = CheckpointMetadata(featureNames: ["ret_1", "rsi_14", "atr_14"],
                                             scaler: FeatureScaler(method: .robust, names: ["ret_1", "rsi_14", "atr_14"], center: [0.1, 50, 0.002], scale: [1.5, 12, 0.001], clip: 8),
                                             runID: "run-2026-11-26-001", extra: ["created_by": "CheckpointTests"])

    @Test func saveLoadIsBitIdenticalAndKeepsMetadata() throws {
        let model = try ShortTermModel(Self.smallShortTerm(), backend: .cpu, seed: 11)
        let path = Self.temporaryPath("roundtrip.safetensors")
        defer { unlink(path) }
        try Checkpoint.save(model, metadata: Self.metadata, to: path)
        let (loaded, meta) = try Checkpoint.load(path, backend: .cpu, expecting: .shortTerm)
        #expect(meta == Self.metadata)
        #expect(loaded.configuration == model.configuration)
        let a = try model.parameters.values.toArray(), b = try loaded.parameters.values.toArray()
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        // Saving the loaded model again writes the same bytes.
        let again = Self.temporaryPath("roundtrip2.safetensors")
        defer { unlink(again) }
        try Checkpoint.save(loaded, metadata: meta, to: again)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: again)))
        // The metadata keys PyTorch users see.
        let file = try SafetensorsFile(contentsOf: path)
        #expect(file.metadata["model_type"] == "short_term" && file.metadata["format"] == "aitrader.checkpoint")
        #expect(file.metadata["run_id"] == "run-2026-11-26-001")
        #expect(try file.tensor("lstm.weight_ih_l0").shape == [20, 6])
        #expect(try file.tensor("lstm.weight_hh_l1_reverse").shape == [20, 5])
    }

    @Test func loadingAnotherModelTypeFailsClearly() throws {
        let path = try Parity.fixture("medium_term_small.safetensors")
        do {
            _ = try Checkpoint.load(path, backend: .cpu, expecting: .shortTerm)
            Issue.record("loaded a medium_term checkpoint as short_term")
        } catch {
            #expect("\(error)".contains("medium_term") && "\(error)".contains("expected short_term"))
        }
        let model = try ShortTermModel(Self.smallShortTerm(), backend: .cpu)
        do {
            try Checkpoint.restore(model, from: Checkpoint.read(path))
            Issue.record("restored a medium_term checkpoint into short_term")
        } catch {
            #expect("\(error)".contains("cannot load it into a short_term model"))
        }
    }

    @Test func loadingAnotherShapeFailsClearly() throws {
        let path = try Parity.fixture("short_term_small.safetensors")
        var other = try Checkpoint.read(path).configuration
        guard case .shortTerm(var c) = other else { Issue.record("not short_term"); return }
        c.lstmHidden += 1
        other = .shortTerm(c)
        let model = try HorizonModels.make(other, backend: .cpu)
        do {
            try Checkpoint.restore(model, from: Checkpoint.read(path))
            Issue.record("restored into a wider model")
        } catch {
            #expect("\(error)".contains("lstm_hidden: model 8, checkpoint 7"), "\(error)")
        }
        // A tampered file: right config, one tensor with the wrong shape.
        var file = try SafetensorsFile(contentsOf: path)
        file.tensors["fc.weight"] = SafetensorsTensor(shape: [6, 23], floats: [Float](repeating: 0, count: 138))
        let bad = Self.temporaryPath("badshape.safetensors")
        defer { unlink(bad) }
        try file.write(to: bad)
        #expect(throws: ModelError.self) { try Checkpoint.load(bad, backend: .cpu) }
        do { _ = try Checkpoint.load(bad, backend: .cpu) } catch {
            #expect("\(error)".contains("'fc.weight' has shape [6, 23], the model expects [6, 24]"), "\(error)")
        }
        file = try SafetensorsFile(contentsOf: path)
        file.tensors["fc.weight"] = nil
        try file.write(to: bad)
        do { _ = try Checkpoint.load(bad, backend: .cpu); Issue.record("missing tensor accepted") } catch {
            #expect("\(error)".contains("missing tensor 'fc.weight'"), "\(error)")
        }
        file = try SafetensorsFile(contentsOf: path)
        file.tensors["extra.weight"] = SafetensorsTensor(shape: [1], floats: [0])
        try file.write(to: bad)
        do { _ = try Checkpoint.load(bad, backend: .cpu); Issue.record("extra tensor accepted") } catch {
            #expect("\(error)".contains("unexpected tensor 'extra.weight'"), "\(error)")
        }
    }

    @Test func aPlainSafetensorsFileIsNotACheckpoint() throws {
        var file = SafetensorsFile(tensors: ["w": SafetensorsTensor(shape: [1], floats: [1])])
        let path = Self.temporaryPath("plain.safetensors")
        defer { unlink(path) }
        try file.write(to: path)
        do { _ = try Checkpoint.read(path); Issue.record("accepted") } catch {
            #expect("\(error)".contains("not an AITrader checkpoint") && "\(error)".contains(path))
        }
        file.metadata = ["format": "aitrader.checkpoint", "format_version": "1", "model_type": "huge_term", "config": "{}"]
        try file.write(to: path)
        do { _ = try Checkpoint.read(path); Issue.record("accepted") } catch {
            #expect("\(error)".contains("huge_term"))
        }
        file.metadata["model_type"] = "long_term"
        try file.write(to: path)
        do { _ = try Checkpoint.read(path); Issue.record("accepted") } catch {
            #expect("\(error)".contains("(config)") && "\(error)".contains("missing"), "\(error)")
        }
        #expect(throws: ModelError.self) { try Checkpoint.read("/nonexistent/ck.safetensors") }
    }
}
