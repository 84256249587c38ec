import Foundation

/// One HTTP request as the server hands it to its handler: the method, the path (percent-decoding is the
/// handler's business), the query string, the headers (names lower-cased; a repeated header keeps its last value)
/// and the whole body.
///
///     let request = HTTPRequest(method: "GET", path: "/v2/health/live")
///     request.header("authorization")   // nil
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// One HTTP response: status, headers (Content-Length is added by the server) and body.
///
///     HTTPResponse.json(200, #"{"live":true}"#)
///     HTTPResponse(status: 503, headers: [("Retry-After", "1")], body: Array("busy".utf8))
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with `Content-Type: application/json`.
    public static func json(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
    }

    /// A plain-text body.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// The value of header `name` (any case), if set.
    public func header(_ name: String) -> String? {
        headers.last { $0.0.lowercased() == name.lowercased() }?.1
    }
}
