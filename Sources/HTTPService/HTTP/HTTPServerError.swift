/// Why an `HTTPServer` could not start: the address, the port or the reason, in the user's terms.
///
///     HTTPServerError.startup("cannot listen on 127.0.0.1:9090: the address is in use")
public enum HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case startup(String)

    public var description: String {
        switch self {
        case .startup(let message): message
        }
    }
}
