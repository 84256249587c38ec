import Foundation

/// One WebSocket client connection (`ws://` or `wss://`), on libwebsockets (Debian `libwebsockets-dev`, through the
/// `CWebSockets` module map): the transport of Alpaca's trading stream (JSON in binary frames) and market-data
/// stream (text frames).
///
///     let stream = try await WebSocketConnection.connect(url: "wss://stream.data.alpaca.markets/v2/iex",
///                                                        headers: ["APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret],
///                                                        pingInterval: 20)
///     try await stream.send(text: #"{"action":"subscribe","bars":["AAPL"]}"#)
///     while let message = try await stream.receive() {   // nil: closed cleanly
///         handle(message.bytes)
///     }
///     // or: for try await message in stream.messages { ... }
///
/// - Messages arrive whole (fragments joined) and in order; text is checked to be UTF-8. A message longer than
///   `maxMessageBytes` closes the connection with 1009 and `receive()` throws `.messageTooLarge`. What the
///   consumer has not taken yet is buffered; past `max(8 MiB, 4 * maxMessageBytes)` the socket is no longer read
///   (TCP pushes back on the server) until the consumer has caught up halfway.
/// - `receive()` returns the buffered messages, then nil after a clean close (ours, or the server's with 1000),
///   or throws how the connection ended: `.closedByPeer(code, reason)`, `.connectionLost` (no close frame),
///   `.messageTooLarge`, `.protocolViolation`. It keeps answering the same way afterwards.
/// - `send` returns once libwebsockets has taken the frame (written or buffered for the socket); sends from
///   several tasks are each sent whole, in the order they were called.
/// - Pings from the server are answered by libwebsockets. `pingInterval` makes this side ping too; the pongs (and
///   every other byte received, pings included) move `lastReceived`, which the broker compares to the clock to
///   find a stream that went silent. Reconnecting is the broker's job: `connect` again.
/// - TLS uses the system's CA store (OpenSSL through libwebsockets) and checks the host name; `allowSelfSigned` is
///   for tests against a local server only. Redirects are refused (the headers carry credentials).
///
/// Thread safety: every method may be called from any task or thread. One service thread per connection runs
/// libwebsockets; it exits, and the library's context and socket are released, once the connection has ended —
/// after `close()`, a close from the server, an error, or when the object is released (which closes with 1001).
public final class WebSocketConnection: Sendable {
    let session: WebSocketSession

    /// The endpoint this connection was made to.
    public var endpoint: WebSocketEndpoint { session.endpoint }

    private init(session: WebSocketSession) {
        self.session = session
    }

    deinit { session.close(code: 1001, reason: "") }

    /// Connects and completes the WebSocket handshake.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port]/path?query` or `wss://...` (IPv6 literals in brackets).
    ///   - headers: extra handshake headers (API keys); names must be HTTP tokens, values free of control
    ///     characters, and the handshake's own headers (Host, Upgrade, Sec-WebSocket-*) cannot be replaced.
    ///   - timeout: seconds for DNS, TCP, TLS and the upgrade together.
    ///   - maxMessageBytes: the largest message accepted (1 MiB by default).
    ///   - pingInterval: seconds between this side's pings; nil sends none.
    ///   - allowSelfSigned: accept a self-signed server certificate (tests against a local server only).
    /// - Throws: `.invalidURL`, `.invalidHeader` before anything is sent; `.cannotConnect(host, port, why)`,
    ///   `.handshakeRefused(status)`, `.timeout`, `.cancelled`.
    public static func connect(url: String, headers: [String: String] = [:], timeout: Double = 10,
                               maxMessageBytes: Int = 1 << 20, pingInterval: Double? = nil,
                               allowSelfSigned: Bool = false) async throws(WebSocketError) -> WebSocketConnection {
        let endpoint = try WebSocketEndpoint(parsing: url)
        let checkedHeaders = try WebSocketEndpoint.validated(headers: headers)
        // Caller input: NaN, negative or absurd values fall back to sane ones instead of trapping a conversion.
        let timeout = timeout.isFinite && timeout > 0 ? min(timeout, 86_400) : 10
        let interval = pingInterval.flatMap { $0.isFinite && $0 > 0 ? max(0.01, min($0, 86_400)) : nil }
        let session = WebSocketSession(endpoint: endpoint, headers: checkedHeaders,
                                       maxMessageBytes: max(1, maxMessageBytes), pingInterval: interval,
                                       allowSelfSigned: allowSelfSigned, connectTimeout: timeout)
        try await session.open()
        return WebSocketConnection(session: session)
    }

    /// Sends a text message (one frame).
    public func send(text: String) async throws(WebSocketError) {
        try await session.send(text.utf8, binary: false)
    }

    /// Sends a binary message (one frame).
    public func send(binary: [UInt8]) async throws(WebSocketError) {
        try await session.send(binary, binary: true)
    }

    /// The next message; nil once the connection closed cleanly and every message before the close was taken.
    /// Throws how the connection ended otherwise (see the type's notes), or `.cancelled` if the waiting task is
    /// cancelled (the connection stays open and nothing is lost).
    public func receive() async throws(WebSocketError) -> WebSocketMessage? {
        try await session.receive()
    }

    /// The messages as an async sequence, ending at a clean close and throwing a `WebSocketError` otherwise.
    /// One consumer: `receive()` and this sequence take from the same queue.
    public var messages: AsyncThrowingStream<WebSocketMessage, any Error> {
        let session = session
        return AsyncThrowingStream(unfolding: { try await session.receive() })
    }

    /// Starts the closing handshake with `code` and `reason` after the messages already queued by `send`
    /// (idempotent; later sends throw `.notOpen`). Codes no endpoint may send (below 1000, 1005, 1006, 1015,
    /// above 4999) are sent as 1000; the reason is cut to 123 bytes of UTF-8 at a character boundary.
    public func close(code: UInt16 = 1000, reason: String = "") {
        session.close(code: code, reason: reason)
    }

    /// Waits until the connection has ended and libwebsockets has released everything (thread, context, socket):
    /// call after `close()` where a new connection must not overlap the old one.
    public func waitUntilClosed() async {
        await session.waitUntilFinished()
    }

    /// Whether the handshake completed and the connection has not ended or begun closing.
    public var isOpen: Bool { session.isOpen }

    /// When the last bytes arrived from the server: any frame, including pongs and the server's pings.
    public var lastReceived: Date { session.lastReceived }

    /// The close frame the server sent, if it closed the connection (also after a clean 1000 close).
    public var peerClose: WebSocketCloseFrame? { session.peerClose }
}
