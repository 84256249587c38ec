/// Why a kill switch operation failed, in the user's terms. No case ever carries the authorization token.
public enum KillSwitchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The token could not be read (missing file or variable, a file others can read, too short).
    case authorizationUnavailable(String)
    /// A reset was attempted with a token that is not the configured one.
    case unauthorized
    /// The kill switch's state file could not be read or written.
    case state(path: String, message: String)
    /// A limit the kill switch cannot work with (negative, NaN).
    case configuration(String)

    public var description: String {
        switch self {
        case .authorizationUnavailable(let why): "kill switch authorization: \(why)"
        case .unauthorized: "kill switch reset refused: the authorization token does not match"
        case .state(let path, let message): "kill switch state \(path): \(message)"
        case .configuration(let why): "kill switch configuration: \(why)"
        }
    }
}
