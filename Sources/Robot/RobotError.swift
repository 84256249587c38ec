import Trading

/// What can stop the robot, in the user's terms.
public enum RobotError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The journal could not be opened, read or written (the robot stops: it never acts unjournaled).
    case journal(path: String, message: String)
    /// A venue call failed.
    case venue(VenueError)
    /// Settings the robot cannot run with.
    case configuration(String)
    /// No prediction could be made (too few bars, stale data, a model failure).
    case prediction(String)
    /// The journal does not describe the same session (other symbols, mode or checkpoints).
    case sessionMismatch(String)
    /// A recorded session replayed to different decisions.
    case replayMismatch(String)

    public var description: String {
        switch self {
        case .journal(let path, let message): "journal \(path): \(message)"
        case .venue(let e): "venue: \(e)"
        case .configuration(let m): "robot configuration: \(m)"
        case .prediction(let m): "prediction: \(m)"
        case .sessionMismatch(let m): "the journal belongs to another session: \(m)"
        case .replayMismatch(let m): "replay differs from the journal: \(m)"
        }
    }
}
