import Common

/// Why training could not start, continue or finish. Each case names where: the config file, line and key; the
/// data that is missing; the step and tensor that went non-finite; the checkpoint that cannot be resumed.
///
///     do { _ = try TrainingConfig.load(path: "configs/training/short_term.yaml") }
///     catch { print(error) }   // "configs/training/short_term.yaml:12:15: 'training.epochs': must be at least 1, got 0"
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    /// A configuration value is unknown, ill-typed or impossible; `location` is "file:line:column".
    case config(location: String, key: String, message: String)
    /// The bars or features cannot make a training set (too few bars, a timeframe the store cannot give).
    case data(String)
    /// A loss, output or gradient became NaN or infinite; nothing was saved after the last good checkpoint.
    case nonFinite(step: Int, epoch: Int, tensor: String, lastGood: String?)
    /// A checkpoint cannot be resumed from or written.
    case checkpoint(path: String, message: String)
    /// A model, engine or feature failure, with what was being done.
    case failed(context: String, message: String)

    public var description: String {
        switch self {
        case let .config(location, key, message): key.isEmpty ? "\(location): \(message)" : "\(location): '\(key)': \(message)"
        case let .data(message): message
        case let .nonFinite(step, epoch, tensor, lastGood):
            "non-finite values at step \(step) (epoch \(epoch + 1)): first in \(tensor); training stopped"
                + (lastGood.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet")
        case let .checkpoint(path, message): "\(path): \(message)"
        case let .failed(context, message): "\(context): \(message)"
        }
    }

    init(_ error: YAMLError) {
        self = .config(location: "\(error.file):\(error.line):\(error.column)", key: "", message: error.message)
    }
}
