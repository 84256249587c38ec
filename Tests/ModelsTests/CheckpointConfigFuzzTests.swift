import Common
import Engine
import Foundation
import Testing
@testable import Models

/// Structure-aware fuzzing of a checkpoint's `config` metadata: the JSON is parsed, its size fields (dims, layer
/// counts, conv channel lists) set to hostile values (negative, zero, the limits and just past them, 2^31, 2^40,
/// Int.max ...) and written back into an otherwise valid checkpoint. Loading must end in a `ModelError`, or in a
/// model whose configuration is the file's — never a trap, an overflow or a huge allocation (the config is checked
/// against the tensors before the model is built). Seeded; AITRADER_FUZZ_ROUNDS for a longer search (default 60
/// per model type).
@Suite struct CheckpointConfigFuzzTests {
    static var rounds: Int { ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 60 }

    static func smallConfigs() -> [ModelConfiguration] {
        var medium = MediumTermConfig()
        medium.sequenceLength = 6; medium.inputFeatures = 3; medium.dModel = 8; medium.attentionHeads = 2
        var long = LongTermConfig()
        long.sequenceLength = 8; long.inputFeatures = 3; long.forecastHorizon = 4; long.trendBlocks = 1
        long.seasonalityBlocks = 1; long.blockWidth = 8; long.blockLayers = 2; long.dModel = 8; long.encoderLayers = 1
        long.attentionHeads = 2; long.feedforward = 8; long.fusionHidden = 4
        return [.shortTerm(CheckpointTests.smallShortTerm()), .mediumTerm(medium), .longTerm(long)]
    }

    static func hostile(_ v: Int, _ rng: inout SplitMix64) -> Int {
        let choices = [-1, 0, 1, 2, 3, v &+ 1, v &* 2, ModelLimits.width, ModelLimits.width + 1, ModelLimits.depth + 1,
                       1 << 31, 1 << 40, Int.max, Int.min, Int.max / 2 + 1]
        return choices[Int(rng.next() % UInt64(choices.count))]
    }

    /// Loads `file` (written to disk) and checks the outcome.
    static func check(_ file: SafetensorsFile, _ path: String, _ what: String) {
        do {
            try file.write(to: path)
            let (model, _) = try Checkpoint.load(path, backend: .cpu)
            let stored = try ModelConfiguration(json: file.metadata["config"]!, modelType: model.modelType, location: "x")
            #expect(model.configuration == stored, "\(what): loaded a model with another configuration")
        } catch is ModelError {
        } catch {
            Issue.record("\(what): untyped error \(error)")
        }
    }

    @Test func mutatedConfigDims() throws {
        let path = CheckpointTests.temporaryPath("config-fuzz.safetensors")
        defer { unlink(path) }
        for (t, config) in Self.smallConfigs().enumerated() {
            let model = try HorizonModels.make(config, backend: .cpu, seed: 3, trainable: false)
            let clean = try Checkpoint.file(of: model, metadata: CheckpointMetadata(runID: "fuzz"))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(clean.metadata["config"]!.utf8)) as? [String: Any])
            let keys = json.keys.filter { json[$0] is Int || json[$0] is [Int] }.sorted()
            for round in 0..<Self.rounds {
                let seed = UInt64(t) << 32 | UInt64(round)
                var rng = SplitMix64(seed: seed)
                var mutated = json
                for _ in 0..<(1 + Int(rng.next() % 2)) {
                    let key = keys[Int(rng.next() % UInt64(keys.count))]
                    if var list = mutated[key] as? [Int] {
                        if !list.isEmpty, rng.next() % 4 != 0 {
                            let i = Int(rng.next() % UInt64(list.count))
                            list[i] = Self.hostile(list[i], &rng)
                        } else {
                            list.append(Self.hostile(3, &rng))
                        }
                        mutated[key] = list
                    } else if let v = mutated[key] as? Int {
                        mutated[key] = Self.hostile(v, &rng)
                    }
                }
                var file = clean
                file.metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: mutated, options: .sortedKeys),
                                                 as: UTF8.self)
                Self.check(file, path, "\(config.modelType.rawValue) round \(round) (seed \(seed))")
            }
        }
    }

    /// The audit's case: `lstm_hidden` 2^40 (past the limits), and one inside the limits whose model would need
    /// billions of floats while the file holds a few hundred: both refused by name before anything is built.
    @Test func hugeLstmIsRefusedBeforeBuilding() throws {
        let path = CheckpointTests.temporaryPath("huge-lstm.safetensors")
        defer { unlink(path) }
        let model = try ShortTermModel(CheckpointTests.smallShortTerm(), backend: .cpu, seed: 1, trainable: false)
        for (hidden, words) in [(1 << 40, ["lstm_hidden", "1...16384"]), (ModelLimits.width, ["larger than", "values its tensors hold"])] {
            var config = CheckpointTests.smallShortTerm()
            config.lstmHidden = hidden
            var file = try Checkpoint.file(of: model, metadata: CheckpointMetadata(runID: "x"))
            file.metadata["config"] = try ModelConfiguration.shortTerm(config).json()
            try file.write(to: path)
            #expect {
                _ = try Checkpoint.load(path, backend: .cpu)
            } throws: { error in
                words.allSatisfy { "\(error)".contains($0) } && "\(error)".contains(path)
            }
        }
    }

    @Test func layoutCountsAreOverflowChecked() {
        var layout = ParameterLayout(limit: 1_000)
        #expect(throws: EngineError.self) { try layout.declare("w", shape: [1 << 40, 1 << 40], initializer: .constant(0)) }
        #expect(throws: EngineError.self) { try layout.declare("w", shape: [Int.max, 2], initializer: .constant(0)) }
        #expect(throws: EngineError.self) { try layout.declare("w", shape: [10, 101], initializer: .constant(0)) }
        _ = try? layout.declare("a", shape: [10, 90], initializer: .constant(0))
        #expect(layout.totalCount == 900)
        #expect(throws: EngineError.self) { try layout.declare("b", shape: [101], initializer: .constant(0)) }
        #expect(layout.totalCount == 900)
    }
}
