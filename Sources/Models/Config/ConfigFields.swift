import Common
import Foundation

/// Typed reads of one model's YAML mapping with defaults, turning every problem into a `ModelError` that names
/// the file, line and key. Unknown keys are rejected so a typo never silently falls back to a default.
///
///     let fields = try ConfigFields(node, allowed: ["lstm_hidden", ...])
///     let hidden = try fields.int("lstm_hidden", default: 256, atLeast: 1)
struct ConfigFields {
    let node: YAMLNode

    init(_ node: YAMLNode, allowed: [String]) throws(ModelError) {
        self.node = node
        do { _ = try node.mapping(); try node.checkKeys(allowed) } catch { throw ModelError(error) }
    }

    func location(_ key: String) -> String { (node[key] ?? node).location }

    func int(_ key: String, default fallback: Int, atLeast minimum: Int) throws(ModelError) -> Int {
        let v: Int
        do { v = try node.int(key, default: fallback) } catch { throw ModelError(error) }
        guard v >= minimum else { throw .invalidConfig(location: location(key), field: key, message: "must be at least \(minimum), got \(v)") }
        return v
    }

    func optionalInt(_ key: String, atLeast minimum: Int) throws(ModelError) -> Int? {
        guard let n = node[key] else { return nil }
        let v: Int
        do { v = try n.int() } catch { throw ModelError(error) }
        guard v >= minimum else { throw .invalidConfig(location: n.location, field: key, message: "must be at least \(minimum), got \(v)") }
        return v
    }

    func ints(_ key: String, default fallback: [Int], atLeast minimum: Int) throws(ModelError) -> [Int] {
        guard let n = node[key] else { return fallback }
        var out: [Int] = []
        do {
            for item in try n.sequence() { out.append(try item.int()) }
        } catch { throw ModelError(error) }
        if let bad = out.first(where: { $0 < minimum }) {
            throw .invalidConfig(location: n.location, field: key, message: "every value must be at least \(minimum), got \(bad)")
        }
        return out
    }

    func probability(_ key: String, default fallback: Float) throws(ModelError) -> Float {
        let v: Double
        do { v = try node.double(key, default: Double(fallback)) } catch { throw ModelError(error) }
        guard v >= 0, v < 1 else { throw .invalidConfig(location: location(key), field: key, message: "a dropout rate must be in [0, 1), got \(v)") }
        return Float(v)
    }

    func positive(_ key: String, default fallback: Float) throws(ModelError) -> Float {
        let v: Double
        do { v = try node.double(key, default: Double(fallback)) } catch { throw ModelError(error) }
        guard v > 0 else { throw .invalidConfig(location: location(key), field: key, message: "must be positive, got \(v)") }
        return Float(v)
    }

    func bool(_ key: String, default fallback: Bool) throws(ModelError) -> Bool {
        do { return try node.bool(key, default: fallback) } catch { throw ModelError(error) }
    }

    /// Checks `model_type`, when present, names `expected`.
    func checkModelType(_ expected: ModelType) throws(ModelError) {
        guard let n = node["model_type"] else { return }
        let s: String
        do { s = try n.string() } catch { throw ModelError(error) }
        guard s == expected.rawValue else {
            throw .invalidConfig(location: n.location, field: "model_type", message: "this is a \(expected.rawValue) config, got '\(s)'")
        }
    }
}

extension ModelError {
    init(_ error: YAMLError) {
        self = .invalidConfig(location: "\(error.file):\(error.line):\(error.column)", field: "", message: error.message)
    }
}

/// Fails with `.invalidConfig` at `location` unless `condition` holds (cross-field checks of a config).
@inline(__always)
func requireConfig(_ condition: Bool, _ location: String, _ field: String, _ message: @autoclosure () -> String) throws(ModelError) {
    if !condition { throw .invalidConfig(location: location, field: field, message: message()) }
}

/// Upper bounds of every size a model config may ask for. Configs come from files and from checkpoints (crafted
/// ones included); these keep every layer's element count far from overflow, and the checkpoint loader further
/// bounds the whole model by the values its file holds.
public enum ModelLimits {
    /// Channels, hidden units, d_model, feed-forward and block widths, input features.
    public static let width = 1 << 14
    /// Bars per window, forecast steps, seasonality harmonics.
    public static let sequence = 1 << 14
    /// Layers, blocks, convolutions, heads, polynomial degree, regime classes.
    public static let depth = 256
    /// Convolution kernel size.
    public static let kernel = 1_023
}

/// Fails with `.invalidConfig` unless `value` is in `range` (checked before any arithmetic uses the value).
func requireRange(_ value: Int, _ range: ClosedRange<Int>, _ location: String, _ field: String) throws(ModelError) {
    try requireConfig(range.contains(value), location, field,
                      "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
}
