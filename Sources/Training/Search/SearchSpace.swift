import Common
import Foundation

/// The hyperparameters a search varies, from a YAML file (`configs/training/search_space.yaml`); each parameter is a
/// float (low, high, log), an int (low, high, step or log) or a categorical (choices), named by its training-config
/// key. Errors name file:line and the key.
///
///     parameters:
///       training.learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
///       training.batch_size: {type: categorical, choices: [16, 32, 64]}
///       label.horizon: {type: int, low: 2, high: 8, step: 2}
///
///     let space = try SearchSpace.load(path: "configs/training/search_space.yaml", allowedKeys: TrialOverrides.keys)
public struct SearchSpace: Sendable, Equatable {
    /// One parameter's distribution; values are handled internally as `Double` (a categorical by its choice index).
    public enum Distribution: Sendable, Equatable {
        /// Uniform on [low, high], or log-uniform when `log` (then low > 0).
        case float(low: Double, high: Double, log: Bool)
        /// low, low + step, ..., high (high is lowered onto the grid); `log`: log-uniform with step 1 (Optuna's rule).
        case int(low: Int, high: Int, step: Int, log: Bool)
        /// One of the choices (YAML scalars, kept as text).
        case categorical([String])

        /// The value as text for messages and YAML: floats in full precision, ints, the choice.
        public func text(_ value: Double) -> String {
            switch self {
            case .float: return "\(value)"
            case .int: return "\(Int(value))"
            case .categorical(let choices): return choices[Int(value)]
            }
        }

        /// Whether `value` (internal representation) is a value this distribution can produce.
        public func contains(_ value: Double) -> Bool {
            switch self {
            case let .float(low, high, _): return value >= low && value <= high
            case let .int(low, high, step, _):
                return value >= Double(low) && value <= Double(high) && value == value.rounded()
                    && (Int(value) - low) % step == 0
            case .categorical(let choices): return value >= 0 && Int(value) < choices.count && value == value.rounded()
            }
        }
    }

    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var distribution: Distribution
        public init(_ name: String, _ distribution: Distribution) {
            self.name = name
            self.distribution = distribution
        }
    }

    /// In file order (the order of sampling and of the printed trial lines).
    public var parameters: [Parameter]

    public init(_ parameters: [Parameter]) { self.parameters = parameters }

    /// The distribution of `name`, if the space has it.
    public subscript(name: String) -> Distribution? { parameters.first { $0.name == name }?.distribution }

    /// Loads a search space; `allowedKeys` (when given) are the parameter names that may appear.
    public static func load(path: String, allowedKeys: [String]? = nil) throws(TrainingError) -> SearchSpace {
        let node: YAMLNode
        do { node = try YAMLNode.load(path: path) } catch { throw TrainingError(error) }
        return try SearchSpace(yaml: node, allowedKeys: allowedKeys)
    }

    public init(yaml root: YAMLNode, allowedKeys: [String]? = nil) throws(TrainingError) {
        func wrap<T>(_ body: () throws -> T) throws(TrainingError) -> T {
            do { return try body() } catch let error as YAMLError { throw TrainingError(error) } catch let error as TrainingError {
                throw error
            } catch { throw .failed(context: "search space", message: "\(error)") }
        }
        try wrap { try root.checkKeys(["parameters"]) }
        let params = try wrap { try root.require("parameters") }
        let pairs = try wrap { try params.mapping() }
        guard !pairs.isEmpty else { throw .config(location: params.location, key: "parameters", message: "list at least one parameter") }
        var out: [Parameter] = []
        for (name, node) in pairs {
            let key = "parameters.\(name)"
            if let allowedKeys, !allowedKeys.contains(name) {
                throw .config(location: node.location, key: key,
                              message: "cannot be tuned (tunable: \(allowedKeys.joined(separator: ", ")))")
            }
            let typeNode = try wrap { try node.require("type") }
            let type = try wrap { try typeNode.string() }
            func bad(_ n: YAMLNode, _ message: String) -> TrainingError { .config(location: n.location, key: n.path, message: message) }
            switch type {
            case "float":
                try wrap { try node.checkKeys(["type", "low", "high", "log"]) }
                let lowNode = try wrap { try node.require("low") }, highNode = try wrap { try node.require("high") }
                let low = try wrap { try lowNode.double() }, high = try wrap { try highNode.double() }
                let log = try wrap { try node.bool("log", default: false) }
                guard low.isFinite, high.isFinite else { throw bad(node, "low and high must be finite") }
                guard low <= high else { throw bad(highNode, "high (\(high)) must be at least low (\(low))") }
                if log, low <= 0 { throw bad(lowNode, "a log-scale parameter needs low > 0, got \(low)") }
                out.append(Parameter(name, .float(low: low, high: high, log: log)))
            case "int":
                try wrap { try node.checkKeys(["type", "low", "high", "step", "log"]) }
                let lowNode = try wrap { try node.require("low") }, highNode = try wrap { try node.require("high") }
                let low = try wrap { try lowNode.int() }, high = try wrap { try highNode.int() }
                let log = try wrap { try node.bool("log", default: false) }
                let step = try wrap { try node.int("step", default: 1) }
                guard low <= high else { throw bad(highNode, "high (\(high)) must be at least low (\(low))") }
                guard step >= 1 else { throw bad(node["step"]!, "step must be at least 1, got \(step)") }
                if log, step != 1 { throw bad(node["step"]!, "a log-scale int parameter takes no step (it is 1)") }
                if log, low < 1 { throw bad(lowNode, "a log-scale parameter needs low >= 1, got \(low)") }
                out.append(Parameter(name, .int(low: low, high: low + (high - low) / step * step, step: step, log: log)))
            case "categorical":
                try wrap { try node.checkKeys(["type", "choices"]) }
                let choicesNode = try wrap { try node.require("choices") }
                let choices = try wrap { try choicesNode.sequence().map { try $0.string() } }
                guard !choices.isEmpty else { throw bad(choicesNode, "list at least one choice") }
                guard Set(choices).count == choices.count else { throw bad(choicesNode, "choices must be distinct") }
                out.append(Parameter(name, .categorical(choices)))
            default:
                throw bad(typeNode, "unknown type '\(type)' (expected float, int or categorical)")
            }
        }
        parameters = out
    }
}
