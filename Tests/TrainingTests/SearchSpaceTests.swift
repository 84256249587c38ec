import Common
import Foundation
import Testing
@testable import Training

struct SearchSpaceTests {
    static func parse(_ text: String) throws(TrainingError) -> SearchSpace {
        let node: YAMLNode
        do { node = try YAMLNode.parse(text, file: "space.yaml") } catch { throw TrainingError(error) }
        return try SearchSpace(yaml: node, allowedKeys: TrialOverrides.keys)
    }

    static func message(_ text: String) -> String {
        do { _ = try parse(text); return "no error" } catch { return error.description }
    }

    @Test func theShippedSearchSpaceLoads() throws {
        let space = try SearchSpace.load(path: TrainingFixture.repository + "/configs/training/search_space.yaml",
                                         allowedKeys: TrialOverrides.keys)
        #expect(space["training.learning_rate"] == .float(low: 1e-5, high: 1e-2, log: true))
        #expect(space.parameters.count >= 3)
    }

    @Test func readsFloatsIntsAndCategoricals() throws {
        let space = try Self.parse("""
            parameters:
              training.learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
              training.epochs: {type: int, low: 2, high: 9, step: 3}
              training.batch_size: {type: categorical, choices: [16, 32]}
            """)
        #expect(space.parameters.map(\.name) == ["training.learning_rate", "training.epochs", "training.batch_size"])
        #expect(space["training.epochs"] == .int(low: 2, high: 8, step: 3, log: false))   // high lowered onto the grid
        #expect(space["training.batch_size"] == .categorical(["16", "32"]))
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(Self.message("parameters:\n  training.learning_rate: {type: float, low: 0, high: 1, log: true}\n")
            == "space.yaml:2:46: 'parameters.training.learning_rate.low': a log-scale parameter needs low > 0, got 0.0")
        #expect(Self.message("parameters:\n  training.epochs: {type: int, low: 5, high: 2}\n")
            .hasPrefix("space.yaml:2:46: 'parameters.training.epochs.high': high (2) must be at least low (5)"))
        #expect(Self.message("parameters:\n  model.layers: {type: int, low: 1, high: 2}\n")
            .hasPrefix("space.yaml:2:17: 'parameters.model.layers': cannot be tuned"))
        #expect(Self.message("parameters:\n  training.epochs: {type: integer, low: 1, high: 2}\n")
            .contains("space.yaml:2:27: 'parameters.training.epochs.type': unknown type 'integer'"))
        #expect(Self.message("parameters:\n  training.batch_size: {type: categorical, choices: []}\n")
            .contains("space.yaml:2:53: 'parameters.training.batch_size.choices': list at least one choice"))
        #expect(Self.message("parameters:\n  training.epochs: {type: int, low: 1, high: 4, stp: 2}\n")
            .contains("space.yaml:2:"))
        #expect(Self.message("parameters:\n  training.epochs: {type: int, low: 1, high: 4, stp: 2}\n").contains("unknown key"))
        #expect(Self.message("params: {}\n").contains("space.yaml:1:"))
    }
}
