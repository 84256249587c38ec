import Common
import MarketData
import Foundation

/// One authenticated connection to `integrations/mt5/mt5_bridge.py` (protocol: integrations/mt5/PROTOCOL.md).
/// Opens lazily, performs the token handshake, matches reply ids, and drops the socket after any transport error
/// so the next request reconnects. Blocking socket calls run on a private queue, not on Swift's cooperative pool.
/// Callers that arrive while the connection is being opened wait for that one attempt (a bridge that admits a single
/// client must never see two), and `handshakes` counts the connections made, so a watcher can tell that the
/// connection was lost and re-established between two of its calls.
actor MT5Connection {
    let host: String
    let port: Int
    private let token: String
    private let timeout: Double
    private var socket: LineSocket?
    private var nextID = 1
    /// The connection being opened, awaited by every caller that needs it meanwhile.
    private var opening: Task<Result<LineSocket, SourceError>, Never>?
    /// Successful handshakes so far (a reconnect adds one).
    private(set) var handshakes = 0
    private let queue = DispatchQueue(label: "aitrader.mt5.socket")
    static let maxReplyBytes = 256 << 20

    init(host: String, port: Int, token: String, timeout: Double) {
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
    }

    /// Runs blocking socket work off the cooperative thread pool.
    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws(SourceError) -> T) async throws(SourceError) -> T {
        let result: Result<T, SourceError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(SourceError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Sends `method` with `params` and returns the `result` object, mapping bridge errors onto `SourceError`.
    func call(_ method: String, _ params: ParamsBox) async throws(SourceError) -> ParamsBox {
        if Task.isCancelled { throw .cancelled }
        let socket = try await connected()
        let id = nextID
        nextID += 1
        let line = try Self.encode(["id": id, "method": method, "params": params.value])
        let reply: String
        do throws(SourceError) {
            reply = try await blocking { () throws(SourceError) -> String in
                try socket.writeLine(line)
                return try socket.readLine(maxBytes: Self.maxReplyBytes)
            }
        } catch {
            self.socket = nil
            throw error
        }
        return ParamsBox(try Self.result(of: reply, id: id, method: method) { self.socket = nil })
    }

    func disconnect() {
        socket?.close()
        socket = nil
    }

    private func connected() async throws(SourceError) -> LineSocket {
        if let socket, socket.isOpen { return socket }
        if let opening { return try await opening.value.get() }
        let attempt = Task { await self.open() }
        opening = attempt
        let result = await attempt.value
        if opening == attempt { opening = nil }
        return try result.get()
    }

    /// Connects and performs the handshake (one attempt); a socket whose handshake failed is closed, never kept.
    private func open() async -> Result<LineSocket, SourceError> {
        let host = self.host, port = self.port, timeout = self.timeout
        do throws(SourceError) {
            let hello = try Self.encode(["id": 0, "method": "hello",
                                         "params": ["token": token, "protocol": 1, "client": "aitrader"] as [String: Any]])
            let fresh = try await blocking { () throws(SourceError) -> LineSocket in
                try LineSocket.connect(host: host, port: port, timeout: timeout)
            }
            do throws(SourceError) {
                let reply = try await blocking { () throws(SourceError) -> String in
                    try fresh.writeLine(hello)
                    return try fresh.readLine(maxBytes: 1 << 20)
                }
                _ = try Self.result(of: reply, id: 0, method: "hello") {}
            } catch {
                fresh.close()
                throw error
            }
            Log.debug("mt5 bridge connected", ["host": host, "port": "\(port)"])
            socket = fresh
            handshakes += 1
            return .success(fresh)
        } catch {
            return .failure(error)
        }
    }

    static func encode(_ object: [String: Any]) throws(SourceError) -> String {
        do {
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        } catch {
            throw .invalidRequest("cannot encode request: \(error)")
        }
    }

    static func result(of reply: String, id: Int, method: String, onProtocolError: () -> Void) throws(SourceError)
        -> [String: Any]
    {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any] else {
            onProtocolError()
            throw .badResponse("bridge reply to \(method) is not a JSON object: \(UntrustedText.sanitized(reply, limit: 120))")
        }
        if let error = object["error"] as? [String: Any] {
            let code = error["code"] as? String ?? "?"
            let message = "\(method): \(UntrustedText.sanitized(error["message"] as? String ?? ""))"
            switch code {
            case "unauthorized", "protocol": onProtocolError(); throw .unauthorized(message)
            // The bridge closes the connection after these: drop ours so the next call reconnects.
            case "too_large": onProtocolError(); throw .invalidRequest(message)
            case "busy", "timeout": onProtocolError(); throw .transient("\(code): \(message)")
            case "bad_request", "unknown_method": throw .invalidRequest(message)
            case "mt5_error" where (error["mt5_code"] as? Int) == -2: throw .invalidRequest(message)
            default: throw .transient("\(UntrustedText.sanitized(code, limit: 40)): \(message)")
            }
        }
        guard (object["id"] as? Int) == id else {
            onProtocolError()
            throw .badResponse("bridge replied to request \(UntrustedText.sanitized("\(object["id"] ?? "nil")", limit: 40)) while \(id) was expected")
        }
        guard let result = object["result"] as? [String: Any] else {
            throw .badResponse("bridge reply to \(method) has no result")
        }
        return result
    }
}
