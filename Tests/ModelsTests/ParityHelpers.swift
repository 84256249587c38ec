import Common
import Engine
import Foundation
import Testing
@testable import Models

/// Shared helpers of the PyTorch parity tests: fixture paths, host tensors, and the error measure.
enum Parity {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return url.path
    }

    static func file(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: fixture(name))
    }

    static func tensor(_ file: SafetensorsFile, _ name: String, on backend: Backend = .cpu) throws -> Tensor {
        let t = try file.tensor(name)
        return try Tensor(try t.floats(), shape: t.shape, on: backend)
    }

    /// Largest element error relative to the reference, with a floor of 1e-2 of the reference tensor's largest
    /// magnitude (so elements that are ~0 in a tensor of order 1 are measured against that order):
    /// max_i |a_i - r_i| / (|r_i| + 1e-2 max_j |r_j|). At the 1e-4 tolerance: every element within 1e-4 of its
    /// own value plus 1e-6 of the tensor's largest value.
    static func relativeError(_ actual: [Float], _ reference: [Float]) -> Double {
        precondition(actual.count == reference.count, "\(actual.count) vs \(reference.count) values")
        let scale = reference.reduce(0) { max($0, abs(Double($1))) }
        var worst = 0.0
        for (a, r) in zip(actual, reference) {
            let e = abs(Double(a) - Double(r)) / (abs(Double(r)) + 1e-2 * scale + 1e-30)
            worst = max(worst, e.isNaN ? .infinity : e)
        }
        return worst
    }

    /// Compares `actual` with the fixture tensor `name`, records an issue above `tolerance`, returns the error.
    @discardableResult
    static func expectClose(_ actual: Tensor, _ file: SafetensorsFile, _ name: String, tolerance: Double = 1e-4,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
        let reference = try file.tensor(name)
        #expect(actual.count == reference.elementCount, "\(name): \(actual.shape) vs \(reference.shape)", sourceLocation: sourceLocation)
        let error = relativeError(try actual.toArray(), try reference.floats())
        #expect(error <= tolerance, "\(name): relative error \(error)", sourceLocation: sourceLocation)
        return error
    }

    /// The small fixture's configuration with every dropout at 0 (PyTorch computed the gradients in eval mode).
    static func withoutDropout(_ configuration: ModelConfiguration) -> ModelConfiguration {
        switch configuration {
        case .shortTerm(var c):
            c.convDropout = 0; c.lstmDropout = 0; c.fcDropout = 0
            return .shortTerm(c)
        case .mediumTerm:
            return configuration
        case .longTerm(var c):
            c.dropout = 0
            return .longTerm(c)
        }
    }

    static func input(_ io: SafetensorsFile, _ type: ModelType) throws -> ModelInput {
        ModelInput(features: try tensor(io, "x"), close: type.needsClose ? try tensor(io, "close") : nil)
    }

    /// Errors are printed so a run shows the parity margins (the issue's closing note quotes them).
    static func report(_ label: String, _ errors: [String: Double]) {
        let worst = errors.max { $0.value < $1.value }
        print("parity \(label): max relative error \(String(format: "%.2e", worst?.value ?? 0)) (\(worst?.key ?? "-")) over \(errors.count) tensors")
    }
}
