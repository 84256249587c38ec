import Testing
@testable import Venues

/// URLs and handshake headers, checked before anything touches the network.
@Suite struct WebSocketEndpointTests {
    @Test func parsesWhatTheBrokersUse() throws {
        let data = try WebSocketEndpoint(parsing: "wss://stream.data.alpaca.markets/v2/iex")
        #expect(data.secure && data.host == "stream.data.alpaca.markets" && data.port == 443 && data.target == "/v2/iex")
        #expect(data.hostHeader == "stream.data.alpaca.markets")
        let trading = try WebSocketEndpoint(parsing: "WSS://paper-api.alpaca.markets/stream")
        #expect(trading.secure && trading.port == 443 && trading.target == "/stream")
        let local = try WebSocketEndpoint(parsing: "ws://127.0.0.1:8765?feed=iex&x=%20y")
        #expect(!local.secure && local.port == 8765 && local.target == "/?feed=iex&x=%20y" && local.hostHeader == "127.0.0.1:8765")
        let v6 = try WebSocketEndpoint(parsing: "ws://[::1]:9000/a/b")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000" && v6.description == "ws://[::1]:9000/a/b")
        #expect(try WebSocketEndpoint(parsing: "ws://example.com").target == "/")
        #expect(WebSocketEndpoint.redacted("ws://user:secret@example.com/a@b") == "ws://***@example.com/a@b")
        #expect(try WebSocketEndpoint(parsing: "ws://example.com:80/x").hostHeader == "example.com")
    }

    @Test func refusesBadURLsWithTheReason() {
        let cases: [(String, String)] = [
            ("", "empty"), ("stream.example.com/x", "no scheme"), ("https://example.com/", "scheme 'https'"),
            ("ws://user:secret@example.com/", "user info"), ("ws://example.com:0/", "port '0'"),
            ("ws://example.com:65536/", "port '65536'"), ("ws://example.com:8x/", "port '8x'"), ("ws:///path", "no host"),
            ("ws://exa mple.com/", "percent-encoded"), ("ws://example.com/a#frag", "fragment"),
            ("ws://[::1/", "unclosed"), ("ws://[nope]:80/", "not an IPv6 address"), ("ws://ex\u{0}ample/", "percent-encoded"),
            ("ws://bad_host$/", "not a host name"), ("ws://example.com/\u{E9}", "non-ASCII"),
        ]
        for (url, fragment) in cases {
            do {
                _ = try WebSocketEndpoint(parsing: url)
                Issue.record("\(url) was accepted")
            } catch {
                guard case .invalidURL(let echoed, let reason) = error, echoed == WebSocketEndpoint.redacted(url) else {
                    Issue.record("\(url): \(error)")
                    continue
                }
                #expect(reason.contains(fragment), "\(url): \(reason)")
                #expect(!error.description.contains("secret"), "\(error)")
            }
        }
    }

    @Test func refusesHeadersThatWouldBreakTheHandshake() throws {
        let bad: [([String: String], String)] = [
            (["X-Key": "a\r\nInjected: yes"], "control characters"), (["Bad Name": "v"], "HTTP token"),
            (["": "v"], "HTTP token"), (["Host": "evil"], "sets it itself"),
            (["sec-websocket-key": "x"], "sets it itself"), (["X-A": "1", "x-a": "2"], "given twice"),
            (["X-Big": String(repeating: "v", count: 5000)], "4096"),
        ]
        for (headers, fragment) in bad {
            do {
                _ = try WebSocketEndpoint.validated(headers: headers)
                Issue.record("\(headers.keys) accepted")
            } catch {
                guard case .invalidHeader(_, let reason) = error else { Issue.record("\(error)"); continue }
                #expect(reason.contains(fragment), "\(reason)")
            }
        }
        #expect(try WebSocketEndpoint.validated(headers: ["APCA-API-KEY-ID": "PK123", "Origin": "https://app"]).count == 2)
    }

    @Test func errorsSayWhatHappened() {
        let cases: [(WebSocketError, String, Bool)] = [
            (.timeout(host: "::1", port: 9, seconds: 0.5), "WebSocket connection to [::1]:9 not open within 0.5 s", true),
            (.connectionLost(host: "h", port: 1, reason: ""), "WebSocket connection to h:1 lost without a close frame", true),
            (.messageTooLarge(atLeast: 5, limit: 4),
             "a WebSocket message of at least 5 bytes arrived, over the limit of 4 bytes (connection closed with 1009)", false),
            (.protocolViolation("x"), "WebSocket protocol violation by the server: x", false),
            (.notOpen, "the WebSocket connection is not open", false), (.cancelled, "cancelled", false),
            (.handshakeRefused(host: "h", port: 443, status: 503, reason: ""), "WebSocket handshake with h:443 refused: HTTP 503", true),
            (.handshakeRefused(host: "h", port: 443, status: 101, reason: "Accept hash wrong"),
             "WebSocket handshake with h:443 refused: HTTP 101 (Accept hash wrong)", false),
            (.invalidHeader(name: "X", reason: "r"), "WebSocket handshake header 'X' cannot be sent: r", false),
            (.closedByPeer(code: 4003, reason: ""), "the server closed the WebSocket with 4003 (application code)", true),
        ]
        for (error, text, transient) in cases {
            #expect(error.description == text)
            #expect(error.isTransient == transient, "\(error)")
        }
        let meanings = [1000, 1001, 1002, 1003, 1005, 1007, 1009, 1010, 1011, 1012, 1013, 3001, 1234]
            .map { WebSocketError.meaning(of: UInt16($0)) }
        #expect(Set(meanings).count == meanings.count && meanings.last == "unknown code")
    }

    @Test func closeCodesAndReasons() {
        #expect(WebSocketSession.isSendableCloseCode(1000) && WebSocketSession.isSendableCloseCode(4001))
        #expect(!WebSocketSession.isSendableCloseCode(1005) && !WebSocketSession.isSendableCloseCode(1006)
                && !WebSocketSession.isSendableCloseCode(999) && !WebSocketSession.isSendableCloseCode(5000))
        let cut = WebSocketSession.truncatedUTF8(String(repeating: "€", count: 60), maxBytes: 123)
        #expect(cut.count == 123 && String(validating: cut, as: UTF8.self) != nil)
        #expect(WebSocketError.closedByPeer(code: 1008, reason: "bad key").description
                == "the server closed the WebSocket with 1008 (policy violation): bad key")
    }
}
