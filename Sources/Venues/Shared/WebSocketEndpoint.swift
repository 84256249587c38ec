#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed `ws://` or `wss://` URL: what libwebsockets needs to connect (address, port, TLS, the request target)
/// and what the handshake sends as `Host`. Parsing is strict, so a typo in a configuration file fails here with the
/// reason instead of as a confusing handshake error later.
///
///     let e = try WebSocketEndpoint(parsing: "wss://stream.data.alpaca.markets/v2/iex")
///     (e.host, e.port, e.secure, e.target)   // ("stream.data.alpaca.markets", 443, true, "/v2/iex")
///     try WebSocketEndpoint(parsing: "ws://[::1]:8080/feed?x=1").hostHeader   // "[::1]:8080"
///
/// Refused: other schemes, user info (`user:pass@`: credentials belong in headers, never in a URL that ends up in
/// logs), fragments (RFC 6455 3), ports outside 1...65535, spaces, control or non-ASCII characters (the target
/// must be percent-encoded already).
public struct WebSocketEndpoint: Equatable, Sendable, CustomStringConvertible {
    public var secure: Bool
    /// Host name or IP literal (IPv6 without brackets).
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var target: String

    public init(parsing url: String) throws(WebSocketError) {
        func invalid(_ reason: String) -> WebSocketError { .invalidURL(Self.redacted(url), reason: reason) }
        guard !url.isEmpty else { throw invalid("it is empty") }
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("spaces, control and non-ASCII characters must be percent-encoded")
        }
        guard let schemeEnd = url.range(of: "://") else { throw invalid("no scheme (expected ws:// or wss://)") }
        switch url[..<schemeEnd.lowerBound].lowercased() {
        case "ws": secure = false
        case "wss": secure = true
        case let other: throw invalid("scheme '\(other)' is not ws or wss")
        }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var remainder = String(rest[authorityEnd...])
        guard !authority.contains("@") else {
            throw invalid("user info in the URL is not supported (pass credentials as headers)")
        }
        var hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unclosed '[' in the host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 address") }
                portPart = after.dropFirst()
            }
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(hostPart), &address) == 1 else {
                throw invalid("'\(hostPart)' is not an IPv6 address")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            } else {
                hostPart = authority
            }
            guard !hostPart.isEmpty else { throw invalid("no host") }
            guard hostPart.utf8.allSatisfy({ Self.isHostByte($0) }), !hostPart.hasPrefix("-"), !hostPart.hasPrefix(".")
            else { throw invalid("'\(hostPart)' is not a host name or IPv4 address") }
        }
        host = String(hostPart)
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = Int(portPart), (1...65_535).contains(value) else {
                throw invalid("port '\(portPart)' is not in 1...65535")
            }
            port = value
        } else {
            port = secure ? 443 : 80
        }
        guard !remainder.contains("#") else { throw invalid("WebSocket URLs cannot have a fragment (#...)") }
        if remainder.isEmpty || remainder.hasPrefix("?") { remainder = "/" + remainder }
        target = remainder
    }

    /// `url` with any user info (`user:password@`) replaced by `***@`, for error messages.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "***" + String(rest[at...])
    }

    /// The `Host` header: the host (bracketed if IPv6), with the port unless it is the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(secure ? "wss" : "ws")://\(WebSocketError.endpoint(host, port))\(target)" }

    private static func isHostByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E
            || b == 0x5F
    }

    /// Checks the caller's handshake headers: names are HTTP tokens, values have no control characters (no header
    /// injection through CR/LF), and nothing the handshake sets itself is overridden.
    static func validated(headers: [String: String]) throws(WebSocketError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for (name, value) in headers.sorted(by: { $0.key.lowercased() < $1.key.lowercased() }) {
            guard !name.isEmpty, name.utf8.allSatisfy({ isTokenByte($0) }) else {
                throw .invalidHeader(name: name, reason: "the name is not an HTTP token")
            }
            guard value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw .invalidHeader(name: name, reason: "the value contains control characters (CR, LF, NUL ...)")
            }
            guard value.utf8.count <= 4096 else {
                throw .invalidHeader(name: name, reason: "the value is longer than 4096 bytes")
            }
            if reservedHeaders.contains(name.lowercased()) {
                throw .invalidHeader(name: name, reason: "the WebSocket handshake sets it itself")
            }
            if out.contains(where: { $0.name.lowercased() == name.lowercased() }) {
                throw .invalidHeader(name: name, reason: "given twice (names are case-insensitive)")
            }
            out.append((name, value))
        }
        guard out.reduce(0, { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }) <= 16_384 else {
            throw .invalidHeader(name: out.last?.name ?? "", reason: "the headers together exceed 16 KiB")
        }
        return out
    }

    static let reservedHeaders: Set<String> = [
        "host", "upgrade", "connection", "content-length", "transfer-encoding", "sec-websocket-key",
        "sec-websocket-version", "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
    ]

    private static func isTokenByte(_ b: UInt8) -> Bool {
        if (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(b)
    }
}
