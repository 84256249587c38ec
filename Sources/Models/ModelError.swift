/// Why a model, its configuration or its checkpoint could not be built, loaded or run. Each case names where the
/// problem is: the config file and line, the checkpoint path and tensor, or the operation and shapes.
///
///     do { _ = try ModelConfiguration.load(path: "configs/models/short_term.yaml") }
///     catch { print(error) }   // "configs/models/short_term.yaml:5:15: 'lstm_hidden': must be at least 1, got 0"
public enum ModelError: Error, CustomStringConvertible, Sendable {
    /// A configuration value is missing, ill-typed or out of range; `location` is "file:line:column" or a
    /// checkpoint's "path (config)".
    case invalidConfig(location: String, field: String, message: String)
    /// A checkpoint cannot be used: unreadable, not an AITrader checkpoint, another model type, missing or
    /// mis-shaped tensors.
    case checkpoint(path: String, message: String)
    /// Inputs of the wrong shape for the model.
    case shapeMismatch(context: String, message: String)
    /// A failure reported by the compute engine or the safetensors layer.
    case engine(context: String, message: String)

    public var description: String {
        switch self {
        case let .invalidConfig(location, field, message):
            field.isEmpty ? "\(location): \(message)" : "\(location): '\(field)': \(message)"
        case let .checkpoint(path, message): path.isEmpty ? message : "\(path): \(message)"
        case let .shapeMismatch(context, message): "\(context): \(message)"
        case let .engine(context, message): "\(context): \(message)"
        }
    }
}

import Engine

extension ModelError {
    /// An engine failure while doing `context` (loading a checkpoint, running a model).
    public init(_ error: EngineError, _ context: String) {
        self = .engine(context: context, message: error.description)
    }

    /// A safetensors failure: the message already names the file and tensor.
    public init(_ error: SafetensorsError) {
        switch error {
        case let .io(source, message): self = .checkpoint(path: source, message: message)
        default: self = .checkpoint(path: "", message: error.description)
        }
    }
}
