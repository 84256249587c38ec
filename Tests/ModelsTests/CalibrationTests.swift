import Engine
import Foundation
import Testing
@testable import Models

/// PlattScaling, temperature scaling and IsotonicRegression against scikit-learn 1.9.1 / scipy 1.17.1
/// (tools/reference/calibration_fixtures.py → Fixtures/calibration_sklearn.json).
///
/// Tolerances: isotonic thresholds and predictions are weighted means of at most 600 labels (sums of 0/1 and
/// counts, exact in Double up to the final divisions and interpolation), so 1e-12 absolute. Platt's a and b are
/// minimisers found by two different Newton-type solvers stopping at their own tolerances: 1e-6 absolute, and the
/// transformed grid 1e-6 absolute (|∂p'/∂a| ≤ max |logit p| / 4 over the grid's interior points).
@Suite struct CalibrationTests {
    struct Isotonic: Decodable { var x, y, fitted, grid: [Double] }
    struct Platt: Decodable { var a: Double; var b: Double?; var grid: [Double] }
    struct Case: Decodable {
        var name: String
        var p: [Double]
        var y: [Int]
        var grid: [Double]
        var isotonic: Isotonic
        var platt: Platt?
        var temperature: Platt?
    }
    struct File: Decodable { var sklearn: String; var scipy: String; var cases: [Case] }

    static func fixture() throws -> File {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/calibration_sklearn", withExtension: "json"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    @Test func isotonicMatchesScikitLearn() throws {
        let file = try Self.fixture()
        #expect(file.sklearn == "1.9.1")
        for c in file.cases {
            let iso = try IsotonicRegression.fit(p: c.p, y: c.y)
            #expect(Self.close(iso.x, c.isotonic.x, 0), "\(c.name): thresholds x \(iso.x.count) vs \(c.isotonic.x.count)")
            #expect(Self.close(iso.y, c.isotonic.y, 1e-12), "\(c.name): thresholds y")
            #expect(Self.close(iso.apply(c.p), c.isotonic.fitted, 1e-12), "\(c.name): fitted values")
            #expect(Self.close(iso.apply(c.grid), c.isotonic.grid, 1e-12), "\(c.name): predictions (clipped outside)")
        }
    }

    @Test func plattAndTemperatureMatchScipy() throws {
        for c in try Self.fixture().cases {
            guard let platt = c.platt, let temperature = c.temperature else {
                // Separable data: no finite minimiser.
                #expect(throws: CalibrationError.self) { try PlattScaling.fit(p: c.p, y: c.y) }
                continue
            }
            let s = try PlattScaling.fit(p: c.p, y: c.y)
            #expect(abs(s.a - platt.a) <= 1e-6 && abs(s.b - platt.b!) <= 1e-6, "\(c.name): a \(s.a) vs \(platt.a), b \(s.b) vs \(platt.b!)")
            #expect(Self.close(s.apply(c.grid), platt.grid, 1e-6), "\(c.name): Platt-transformed grid")
            let t = try PlattScaling.fit(p: c.p, y: c.y, temperatureOnly: true)
            #expect(t.b == 0 && abs(t.a - temperature.a) <= 1e-6, "\(c.name): temperature a \(t.a) vs \(temperature.a)")
            #expect(Self.close(t.apply(c.grid), temperature.grid, 1e-6), "\(c.name): temperature-scaled grid")
        }
    }

    @Test func fittingRefusesBadInput() {
        #expect(throws: CalibrationError.counts(probabilities: 2, labels: 1)) { try PlattScaling.fit(p: [0.4, 0.6], y: [1]) }
        #expect(throws: CalibrationError.counts(probabilities: 0, labels: 0)) { try IsotonicRegression.fit(p: [], y: []) }
        #expect(throws: CalibrationError.oneClass(samples: 3)) { try PlattScaling.fit(p: [0.4, 0.6, 0.5], y: [1, 1, 1]) }
        #expect(throws: CalibrationError.self) { try IsotonicRegression.fit(p: [0.4, .nan], y: [1, 0]) }
        #expect(throws: CalibrationError.self) { try IsotonicRegression.fit(p: [0.4, 0.5], y: [1, 2]) }
        #expect(throws: CalibrationError.self) { try IsotonicRegression(x: [0.5, 0.4], y: [0.1, 0.2]) }
    }

    @Test func documentedExamples() throws {
        let iso = try IsotonicRegression.fit(p: [0.1, 0.3, 0.2, 0.8], y: [0, 1, 0, 1])
        #expect(iso.x == [0.1, 0.2, 0.3, 0.8] && iso.y == [0, 0, 1, 1])
        #expect(iso.apply(0.25) == 0.5 && iso.apply(0.95) == 1 && iso.apply(0) == 0)
        #expect(abs(PlattScaling(a: 2, b: 0).apply(0.6) - 0.6923076923076923) < 1e-12)
        let c = ConfidentPrediction(alpha: 8, beta: 2, calibration: .init(method: .platt, platt: .init(a: 0.5, b: 0),
                                                                           isotonic: nil, samples: 0, logLoss: [:]))
        #expect(c.rawProbability == 0.8 && abs(c.probability - 2.0 / 3) < 1e-6 && c.alpha == 8 && c.beta == 2)
        #expect(c.confidence == ConfidentPrediction(alpha: 8, beta: 2).confidence)
        let flipped = ConfidentPrediction(alpha: 5.5, beta: 4.5, calibration: .init(method: .platt, platt: .init(a: 1, b: -0.5),
                                                                                      isotonic: nil, samples: 0, logLoss: [:]))
        #expect(flipped.rawProbability > 0.5 && flipped.probability < 0.5 && flipped.direction == -1)
    }

    @Test func storedCalibrationRoundTripsAndIsChecked() throws {
        let c = try Self.fixture().cases[0]
        for method in CalibrationMethod.allCases {
            let fitted = try ProbabilityCalibration.fit(method, p: c.p, y: c.y)
            #expect(fitted.method == method && fitted.samples == c.p.count && fitted.logLoss.count == 4)
            let back = try ProbabilityCalibration(json: try fitted.json())
            #expect(back == fitted, "\(method)")
            #expect(back.apply(c.grid) == fitted.apply(c.grid))
        }
        // In-sample, every fitted method is at least as good as the raw predictions.
        let fitted = try ProbabilityCalibration.fit(.platt, p: c.p, y: c.y)
        #expect(fitted.logLoss[.platt]! < fitted.logLoss[.none]! && fitted.logLoss[.isotonic]! < fitted.logLoss[.platt]!)
        #expect(ProbabilityCalibration.identity.apply(0.37) == 0.37)
        #expect(throws: CalibrationError.self) { try ProbabilityCalibration(json: #"{"method": "platt", "a": 1}"#) }
        #expect(throws: CalibrationError.self) { try ProbabilityCalibration(json: #"{"method": "sigmoid"}"#) }
        #expect(throws: CalibrationError.self) { try ProbabilityCalibration(json: #"{"method": "isotonic", "x": [0.2, 0.1], "y": [0, 1]}"#) }
    }

    @Test func checkpointsCarryTheCalibrationAndOldOnesLoadWithout() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UInt64.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = try #require(Bundle.module.url(forResource: "Fixtures/short_term_small", withExtension: "safetensors"))
        let (model, oldMeta) = try Checkpoint.load(url.path, backend: .cpu)
        #expect(oldMeta.calibration == nil && oldMeta.calibrationOrIdentity == .identity)   // written before calibration

        let c = try Self.fixture().cases[1]
        var meta = oldMeta
        meta.calibration = try ProbabilityCalibration.fit(.isotonic, p: c.p, y: c.y)
        try Checkpoint.save(model, metadata: meta, to: dir + "/calibrated.safetensors")
        let (_, loaded) = try Checkpoint.load(dir + "/calibrated.safetensors", backend: .cpu)
        #expect(loaded == meta && loaded.extra["calibration"] == nil)

        var file = try SafetensorsFile(contentsOf: dir + "/calibrated.safetensors")
        file.metadata["calibration"] = #"{"method": "platt"}"#
        try file.write(to: dir + "/broken.safetensors")
        #expect(throws: ModelError.self) { try Checkpoint.read(dir + "/broken.safetensors") }
    }
}
