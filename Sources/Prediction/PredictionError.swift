import Common

/// Why a prediction could not be made, in the user's terms: which checkpoint file, symbol, model and bar time.
///
///     // "checkpoints/short_term/best.safetensors: was trained on another version of configs/features/short_term.yaml ..."
///     // "EURUSD: long_term needs 214 closed 1d bars (warm-up 86 + window 128) before 2017-06-01T00:00:00Z, the store has 40"
public enum PredictionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A checkpoint is missing, unreadable, or does not fit the features it would be given.
    case checkpoint(path: String, message: String)
    /// The ensemble configuration is invalid (location is file:line:column).
    case config(location: String, message: String)
    /// The store cannot give the bars or features a prediction needs (unknown symbol, too few bars, NaN features).
    case data(message: String)
    /// The latest bar is older than `max_data_age_hours` allows.
    case staleData(message: String)
    /// Running a model failed.
    case failed(context: String, message: String)

    public var description: String {
        switch self {
        case let .checkpoint(path, message): path.isEmpty ? message : "\(path): \(message)"
        case let .config(location, message): "\(location): \(message)"
        case let .data(message): message
        case let .staleData(message): message
        case let .failed(context, message): "\(context): \(message)"
        }
    }
}
