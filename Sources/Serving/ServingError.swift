/// Why the service cannot start or load a model, in the user's terms (the address, the repository path, the file).
///
///     // "cannot listen on 127.0.0.1:8000: the address is in use"
///     // "models/short_term: no short_term checkpoints here (expected best.safetensors ...)"
public enum ServingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The HTTP server cannot start (address, port, host name).
    case startup(String)
    /// The model repository or one of its checkpoints cannot be used.
    case repository(path: String, message: String)

    public var description: String {
        switch self {
        case let .startup(message): message
        case let .repository(path, message): path.isEmpty ? message : "\(path): \(message)"
        }
    }
}

/// An error answered to one request: the HTTP status, the message (sent as `{"error": message}`, the shape
/// Triton's clients read) and, for 503, the seconds after which to retry.
///
///     throw InferenceError.badRequest("input 'x': shape [1, 24, 4], expected [-1, 24, 5] ...")
public struct InferenceError: Error, CustomStringConvertible, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var retryAfterSeconds: Int?

    public init(status: Int, message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status): \(message)" }

    public static func badRequest(_ message: String) -> InferenceError { InferenceError(status: 400, message: message) }
    public static func notFound(_ message: String) -> InferenceError { InferenceError(status: 404, message: message) }
    /// The queue is full or the server is draining: try again later.
    public static func unavailable(_ message: String, retryAfter: Int = 1) -> InferenceError {
        InferenceError(status: 503, message: message, retryAfterSeconds: retryAfter)
    }
    /// The request waited longer than its timeout.
    public static func timeout(_ message: String) -> InferenceError { InferenceError(status: 504, message: message) }
    public static func failed(_ message: String) -> InferenceError { InferenceError(status: 500, message: message) }
    /// The request asked for a checkpoint (`checkpoint_sha256`) the model does not run (any more).
    public static func conflict(_ message: String) -> InferenceError { InferenceError(status: 409, message: message) }
}
