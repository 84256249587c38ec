/// One complete WebSocket message, fragments already joined: text (valid UTF-8, checked on arrival) or binary.
/// Alpaca's trading stream sends its JSON in binary frames and its market-data stream in text frames; `bytes`
/// serves both to a JSON decoder.
///
///     switch try await connection.receive() {
///     case .text(let json)?: print(json)
///     case .binary(let bytes)?: print(String(decoding: bytes, as: UTF8.self))
///     case nil: print("closed")
///     }
public enum WebSocketMessage: Equatable, Sendable {
    case text(String)
    case binary([UInt8])

    /// The payload as bytes (UTF-8 for text).
    public var bytes: [UInt8] {
        switch self {
        case .text(let text): Array(text.utf8)
        case .binary(let bytes): bytes
        }
    }

    /// Payload length in bytes.
    public var count: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .binary(let bytes): bytes.count
        }
    }
}

/// The close frame a peer sent: its status code and reason (sanitised, at most 123 bytes on the wire).
public struct WebSocketCloseFrame: Equatable, Sendable {
    public var code: UInt16
    public var reason: String

    public init(code: UInt16, reason: String) {
        self.code = code
        self.reason = reason
    }
}
