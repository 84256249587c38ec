/// Why a tracker could not record something: its store (the local SQLite file or artifact folder), the tracking
/// server (unreachable, or it refused the request), or a run that does not exist.
///
///     catch let error as TrackingError { print(error) }   // "MLflow http://127.0.0.1:5000: runs/create: transient error: ..."
public enum TrackingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The local store: SQLite or the file system, with the path.
    case store(path: String, message: String)
    /// The tracking server, with its URI and the API call.
    case server(uri: String, call: String, message: String)
    /// No run (or no unique run) with this id or id prefix.
    case unknownRun(String)

    public var description: String {
        switch self {
        case let .store(path, message): "\(path): \(message)"
        case let .server(uri, call, message): "MLflow \(uri): \(call): \(message)"
        case let .unknownRun(id): "no run '\(id)' in the tracking store"
        }
    }
}
