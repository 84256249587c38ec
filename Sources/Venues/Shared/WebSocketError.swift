import Common

/// Why a WebSocket connection could not be made, or ended, in the terms of the user who asked for it: which
/// endpoint, what the server said, what the limit was. Peer-supplied text (close reasons, library messages about the
/// peer) is sanitised (`Common.UntrustedText`) before it gets here.
///
///     do { _ = try await WebSocketConnection.connect(url: "ws://127.0.0.1:1/") }
///     catch { print(error) }   // cannot connect to 127.0.0.1:1: connection refused
///
/// `isTransient` tells the broker layer whether reconnecting can help: a dropped stream, a refused TCP
/// connection or a timeout can; an invalid URL, a 401 or a message beyond our own limit cannot by itself.
public enum WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The URL is not a usable `ws://` or `wss://` URL (`reason` says what is wrong with it).
    case invalidURL(String, reason: String)
    /// A handshake header the caller passed cannot be sent (not an HTTP token, CR/LF in the value, or a header the
    /// handshake sets itself).
    case invalidHeader(name: String, reason: String)
    /// No connection: DNS, TCP or TLS failed before the HTTP upgrade (`reason` from the resolver, kernel or TLS).
    case cannotConnect(host: String, port: Int, reason: String)
    /// The server answered the upgrade request with something other than a valid `101 Switching Protocols`
    /// (`status` is the HTTP status it sent, 0 when none could be read).
    case handshakeRefused(host: String, port: Int, status: Int, reason: String)
    /// The connection (TCP + TLS + upgrade) was not open within `seconds`.
    case timeout(host: String, port: Int, seconds: Double)
    /// The server sent a close frame with this code and reason (any code but 1000, which ends `receive()` with nil).
    case closedByPeer(code: UInt16, reason: String)
    /// The connection ended without a close frame (reset, end of stream, TLS failure mid-stream).
    case connectionLost(host: String, port: Int, reason: String)
    /// A message longer than the connection's `maxMessageBytes` arrived; the connection was closed with 1009.
    case messageTooLarge(atLeast: Int, limit: Int)
    /// The server broke the protocol (a text message that is not UTF-8: closed with 1007).
    case protocolViolation(String)
    /// `send` on a connection that this side closed (or that is no longer open).
    case notOpen
    /// The task waiting in `connect` or `receive` was cancelled.
    case cancelled

    public var isTransient: Bool {
        switch self {
        case .cannotConnect, .timeout, .closedByPeer, .connectionLost: true
        case .handshakeRefused(_, _, let status, _): status == 0 || status == 429 || status >= 500
        case .invalidURL, .invalidHeader, .messageTooLarge, .protocolViolation, .notOpen, .cancelled: false
        }
    }

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            "invalid WebSocket URL '\(UntrustedText.sanitized(url, limit: 200))': \(reason)"
        case .invalidHeader(let name, let reason):
            "WebSocket handshake header '\(UntrustedText.sanitized(name, limit: 80))' cannot be sent: \(reason)"
        case .cannotConnect(let host, let port, let reason):
            "cannot connect to \(Self.endpoint(host, port)): \(reason)"
        case .handshakeRefused(let host, let port, let status, let reason):
            "WebSocket handshake with \(Self.endpoint(host, port)) refused"
                + (status > 0 ? ": HTTP \(status)" : "") + (reason.isEmpty ? "" : " (\(reason))")
        case .timeout(let host, let port, let seconds):
            "WebSocket connection to \(Self.endpoint(host, port)) not open within \(seconds) s"
        case .closedByPeer(let code, let reason):
            "the server closed the WebSocket with \(code) (\(Self.meaning(of: code)))"
                + (reason.isEmpty ? "" : ": \(reason)")
        case .connectionLost(let host, let port, let reason):
            "WebSocket connection to \(Self.endpoint(host, port)) lost without a close frame" + (reason.isEmpty ? "" : ": \(reason)")
        case .messageTooLarge(let atLeast, let limit):
            "a WebSocket message of at least \(atLeast) bytes arrived, over the limit of \(limit) bytes "
                + "(connection closed with 1009)"
        case .protocolViolation(let what): "WebSocket protocol violation by the server: \(what)"
        case .notOpen: "the WebSocket connection is not open"
        case .cancelled: "cancelled"
        }
    }

    static func endpoint(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// RFC 6455 section 7.4.1 (and the IANA registry) in words.
    static func meaning(of code: UInt16) -> String {
        switch code {
        case 1000: "normal closure"
        case 1001: "going away"
        case 1002: "protocol error"
        case 1003: "unsupported data"
        case 1005: "no status code"
        case 1007: "invalid payload data"
        case 1008: "policy violation"
        case 1009: "message too big"
        case 1010: "mandatory extension"
        case 1011: "internal server error"
        case 1012: "service restart"
        case 1013: "try again later"
        case 3000...3999: "registered application code"
        case 4000...4999: "application code"
        default: "unknown code"
        }
    }
}
