import Foundation

/// The calibration a checkpoint carries (metadata key `calibration`, JSON): the method, its fitted parameters and
/// what the fit saw. `apply` maps a model's raw p(up) = alpha / (alpha + beta) to a calibrated probability;
/// a checkpoint without one (older checkpoints, `calibration: none`) uses `identity`.
///
/// JSON (sorted keys): `{"a": 1.93, "b": 0.021, "log_loss": {"isotonic": 0.6871, "none": 0.6931, "platt": 0.6889,
/// "temperature": 0.6902}, "method": "platt", "samples": 1840}`; isotonic stores `"x": [...], "y": [...]` (the
/// thresholds) instead of a and b. `log_loss` holds the fitting split's mean log loss of every method fitted there
/// (in-sample: isotonic's is optimistic).
///
///     let c = try ProbabilityCalibration.fit(.platt, p: validationP, y: validationY)
///     c.apply(0.52)                                  // calibrated p(up)
///     let back = try ProbabilityCalibration(json: try c.json())   // == c
public struct ProbabilityCalibration: Sendable, Equatable {
    public var method: CalibrationMethod
    /// a, b of `platt`; a and b = 0 of `temperature`.
    public var platt: PlattScaling?
    /// The thresholds of `isotonic`.
    public var isotonic: IsotonicRegression?
    /// Samples the calibration was fitted on (0 for `identity`).
    public var samples: Int
    /// Mean log loss on the fitting samples of each method fitted there (`none`: the raw predictions).
    public var logLoss: [CalibrationMethod: Double]

    /// p unchanged.
    public static let identity = ProbabilityCalibration(method: .none, platt: nil, isotonic: nil, samples: 0, logLoss: [:])

    public init(method: CalibrationMethod, platt: PlattScaling?, isotonic: IsotonicRegression?, samples: Int,
                logLoss: [CalibrationMethod: Double]) {
        self.method = method
        self.platt = platt
        self.isotonic = isotonic
        self.samples = samples
        self.logLoss = logLoss
    }

    public func apply(_ p: Double) -> Double {
        switch method {
        case .platt, .temperature: platt?.apply(p) ?? p
        case .isotonic: isotonic?.apply(p) ?? p
        case .none: p
        }
    }

    public func apply(_ p: [Double]) -> [Double] { p.map(apply) }

    /// Fits every method on (p, y), records their log losses there and keeps `method`'s map. A method that cannot
    /// be fitted (one class, separable data) leaves its log loss out; when it is the one asked for, its error is thrown.
    public static func fit(_ method: CalibrationMethod, p: [Double], y: [Int]) throws(CalibrationError) -> ProbabilityCalibration {
        try CalibrationError.check(p: p, y: y)
        var losses: [CalibrationMethod: Double] = [.none: logLoss(p: p, y: y)]
        var platt: PlattScaling?, temperature: PlattScaling?, isotonic: IsotonicRegression?
        var failure: CalibrationError?
        func attempt<T>(_ m: CalibrationMethod, _ body: () throws(CalibrationError) -> T, _ map: (T) -> [Double]) -> T? {
            do {
                let fitted = try body()
                losses[m] = logLoss(p: map(fitted), y: y)
                return fitted
            } catch {
                if m == method { failure = error }
                return nil
            }
        }
        platt = attempt(.platt, { () throws(CalibrationError) in try PlattScaling.fit(p: p, y: y) }, { $0.apply(p) })
        temperature = attempt(.temperature, { () throws(CalibrationError) in try PlattScaling.fit(p: p, y: y, temperatureOnly: true) },
                              { $0.apply(p) })
        isotonic = attempt(.isotonic, { () throws(CalibrationError) in try IsotonicRegression.fit(p: p, y: y) }, { $0.apply(p) })
        if let failure { throw failure }
        switch method {
        case .platt: return .init(method: .platt, platt: platt, isotonic: nil, samples: p.count, logLoss: losses)
        case .temperature: return .init(method: .temperature, platt: temperature, isotonic: nil, samples: p.count, logLoss: losses)
        case .isotonic: return .init(method: .isotonic, platt: nil, isotonic: isotonic, samples: p.count, logLoss: losses)
        case .none: return .init(method: .none, platt: nil, isotonic: nil, samples: p.count, logLoss: losses)
        }
    }

    /// Mean log loss with sklearn's clipping of p to [ε, 1 − ε], ε the Double machine epsilon.
    public static func logLoss(p: [Double], y: [Int]) -> Double {
        guard !p.isEmpty else { return .nan }
        let eps = Double.ulpOfOne
        var sum = 0.0
        for (q, t) in zip(p, y) {
            let c = min(max(q, eps), 1 - eps)
            sum -= t == 1 ? log(c) : log(1 - c)
        }
        return sum / Double(p.count)
    }

    // MARK: JSON

    struct Stored: Codable {
        var method: String
        var a: Double?
        var b: Double?
        var x: [Double]?
        var y: [Double]?
        var samples: Int?
        var logLoss: [String: Double]?
        enum CodingKeys: String, CodingKey { case method, a, b, x, y, samples, logLoss = "log_loss" }
    }

    /// The metadata value (sorted keys).
    public func json() throws(CalibrationError) -> String {
        var s = Stored(method: method.rawValue, samples: samples,
                       logLoss: Dictionary(uniqueKeysWithValues: logLoss.filter { $0.value.isFinite }.map { ($0.key.rawValue, $0.value) }))
        if let platt { s.a = platt.a; s.b = platt.b }
        if let isotonic { s.x = isotonic.x; s.y = isotonic.y }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return String(decoding: try encoder.encode(s), as: UTF8.self) }
        catch { throw .invalidStored(message: "\(error)") }
    }

    /// Reads the metadata value back, checking that the method's parameters are present and valid.
    public init(json text: String) throws(CalibrationError) {
        let s: Stored
        do { s = try JSONDecoder().decode(Stored.self, from: Data(text.utf8)) }
        catch { throw .invalidStored(message: "not valid JSON of a calibration: \(error)") }
        guard let method = CalibrationMethod(rawValue: s.method) else {
            throw .invalidStored(message: "unknown method '\(s.method)' (expected \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var platt: PlattScaling?, isotonic: IsotonicRegression?
        switch method {
        case .platt, .temperature:
            guard let a = s.a, let b = s.b, a.isFinite, b.isFinite else {
                throw .invalidStored(message: "\(method.rawValue) needs finite 'a' and 'b'")
            }
            if method == .temperature && b != 0 { throw .invalidStored(message: "temperature scaling has b = 0, got \(b)") }
            platt = PlattScaling(a: a, b: b)
        case .isotonic:
            guard let x = s.x, let y = s.y else { throw .invalidStored(message: "isotonic needs 'x' and 'y'") }
            isotonic = try IsotonicRegression(x: x, y: y)
        case .none: break
        }
        var losses: [CalibrationMethod: Double] = [:]
        for (k, v) in s.logLoss ?? [:] { if let m = CalibrationMethod(rawValue: k) { losses[m] = v } }
        self.init(method: method, platt: platt, isotonic: isotonic, samples: s.samples ?? 0, logLoss: losses)
    }
}
