import Common
import Foundation

/// One model's configuration, whichever of the three it is: read from configs/models/<model>.yaml, written into
/// and read back from checkpoint metadata as JSON (snake_case keys, sorted).
///
///     let config = try ModelConfiguration.load(path: "configs/models/medium_term.yaml")
///     config.modelType          // .mediumTerm
///     let json = try config.json()   // {"attention_heads":4,"d_model":128,...}
///     let same = try ModelConfiguration(json: json, modelType: .mediumTerm, location: "ck.safetensors")
public enum ModelConfiguration: Equatable, Sendable {
    case shortTerm(ShortTermConfig)
    case mediumTerm(MediumTermConfig)
    case longTerm(LongTermConfig)

    /// The design defaults of `type` (what `aitrader bench` measures).
    public static func defaults(_ type: ModelType) -> ModelConfiguration {
        switch type {
        case .shortTerm: .shortTerm(ShortTermConfig())
        case .mediumTerm: .mediumTerm(MediumTermConfig())
        case .longTerm: .longTerm(LongTermConfig())
        }
    }

    public var modelType: ModelType {
        switch self {
        case .shortTerm: .shortTerm
        case .mediumTerm: .mediumTerm
        case .longTerm: .longTerm
        }
    }

    public var sequenceLength: Int {
        switch self {
        case .shortTerm(let c): c.sequenceLength
        case .mediumTerm(let c): c.sequenceLength
        case .longTerm(let c): c.sequenceLength
        }
    }

    /// F, features per bar; set from the feature set before training.
    public var inputFeatures: Int {
        get {
            switch self {
            case .shortTerm(let c): c.inputFeatures
            case .mediumTerm(let c): c.inputFeatures
            case .longTerm(let c): c.inputFeatures
            }
        }
        set {
            switch self {
            case .shortTerm(var c): c.inputFeatures = newValue; self = .shortTerm(c)
            case .mediumTerm(var c): c.inputFeatures = newValue; self = .mediumTerm(c)
            case .longTerm(var c): c.inputFeatures = newValue; self = .longTerm(c)
            }
        }
    }

    /// Reads a YAML file; its `model_type` key says which model (or `expected`, when the file has none).
    public static func load(path: String, expected: ModelType? = nil) throws(ModelError) -> ModelConfiguration {
        let node: YAMLNode
        do { node = try YAMLNode.load(path: path) } catch { throw ModelError(error) }
        return try ModelConfiguration(yaml: node, expected: expected)
    }

    public init(yaml node: YAMLNode, expected: ModelType? = nil) throws(ModelError) {
        var type = expected
        if let n = node["model_type"] {
            let name: String
            do { name = try n.string() } catch { throw ModelError(error) }
            guard let named = ModelType(rawValue: name) else {
                throw .invalidConfig(location: n.location, field: "model_type",
                                     message: "unknown model '\(name)' (expected \(ModelType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if let expected, expected != named {
                throw .invalidConfig(location: n.location, field: "model_type", message: "expected \(expected.rawValue), got \(name)")
            }
            type = named
        }
        guard let type else {
            throw .invalidConfig(location: node.location, field: "model_type", message: "missing: say which model this config is for")
        }
        switch type {
        case .shortTerm: self = .shortTerm(try ShortTermConfig(yaml: node))
        case .mediumTerm: self = .mediumTerm(try MediumTermConfig(yaml: node))
        case .longTerm: self = .longTerm(try LongTermConfig(yaml: node))
        }
    }

    /// Compact JSON with sorted keys (what checkpoints store in their `config` metadata).
    public func json() throws(ModelError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data: Data
            switch self {
            case .shortTerm(let c): data = try encoder.encode(c)
            case .mediumTerm(let c): data = try encoder.encode(c)
            case .longTerm(let c): data = try encoder.encode(c)
            }
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .engine(context: "ModelConfiguration.json", message: "\(error)")
        }
    }

    /// Parses the JSON of `json()` (every key required: a checkpoint's config fully describes its tensors).
    public init(json: String, modelType: ModelType, location: String) throws(ModelError) {
        let decoder = JSONDecoder()
        let data = Data(json.utf8)
        do {
            switch modelType {
            case .shortTerm: self = .shortTerm(try decoder.decode(ShortTermConfig.self, from: data))
            case .mediumTerm: self = .mediumTerm(try decoder.decode(MediumTermConfig.self, from: data))
            case .longTerm: self = .longTerm(try decoder.decode(LongTermConfig.self, from: data))
            }
        } catch let error as DecodingError {
            throw ModelConfiguration.describe(error, location: location)
        } catch {
            throw .invalidConfig(location: location, field: "", message: "\(error)")
        }
        try validate(location: location)
    }

    public func validate(location: String) throws(ModelError) {
        switch self {
        case .shortTerm(let c): try c.validate(location: location)
        case .mediumTerm(let c): try c.validate(location: location)
        case .longTerm(let c): try c.validate(location: location)
        }
    }

    static func describe(_ error: DecodingError, location: String) -> ModelError {
        func path(_ keys: [CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context):
            return .invalidConfig(location: location, field: path(context.codingPath + [key]), message: "missing")
        case let .typeMismatch(type, context):
            return .invalidConfig(location: location, field: path(context.codingPath), message: "expected \(type)")
        case let .valueNotFound(type, context):
            return .invalidConfig(location: location, field: path(context.codingPath), message: "null where \(type) is required")
        case let .dataCorrupted(context):
            return .invalidConfig(location: location, field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return .invalidConfig(location: location, field: "", message: "\(error)")
        }
    }
}
