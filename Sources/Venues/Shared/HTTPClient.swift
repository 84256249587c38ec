import Common
import Foundation
import HTTPService
import MarketData
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal async HTTP client (GET, and `send` for POST/PUT bodies) over `URLSession` that maps failures onto `SourceError`: timeouts and
/// connection errors and 5xx are transient, 429 is `.rateLimited`, 401/403 `.unauthorized`, other 4xx
/// `.invalidRequest`. Header values are never logged (they carry API keys). Redirects are followed (at most
/// `HTTPTransfer.maxRedirects`), but never with the caller's headers to another origin; bodies above
/// `maxResponseBytes` are refused; vendor text in errors is sanitised (`UntrustedText`).
///
///     let client = HTTPClient(timeout: 30)
///     let response = try await client.get("https://data.alpaca.markets/v2/stocks/bars", query: [("symbols", "AAPL")],
///                                         headers: ["APCA-API-KEY-ID": key])
public struct HTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        /// A header by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    private let session: URLSession
    private let transfer: HTTPTransfer

    /// Bodies larger than this are refused (by Content-Length, or as they arrive).
    public static let maxResponseBytes = 256 << 20

    public init(timeout: Double = 30, maxResponseBytes: Int = HTTPClient.maxResponseBytes) {
        let configuration = URLSessionConfiguration.ephemeral
        // Configuration input: a NaN, negative or absurd timeout becomes a sane one, never a trap.
        let timeout = timeout.isFinite && timeout > 0 ? min(timeout, 86_400) : 30
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 4
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        transfer = HTTPTransfer(maxBytes: max(1, maxResponseBytes))
        session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: nil)
    }

    /// `url?k=v&...` with each name and value percent-encoded.
    public static func url(_ base: String, query: [(String, String)]) throws(SourceError) -> URL {
        guard var components = URLComponents(string: base) else { throw .invalidRequest("bad URL '\(base)'") }
        if !query.isEmpty {
            components.percentEncodedQuery = query.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        }
        guard let url = components.url else { throw .invalidRequest("bad URL '\(base)'") }
        return url
    }

    /// One path segment percent-encoded (unreserved characters kept).
    public static func encodePathSegment(_ s: String) -> String { encode(s) }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Sends a GET; returns any 2xx response and throws the mapped `SourceError` for everything else.
    public func get(_ base: String, query: [(String, String)] = [], headers: [String: String] = [:])
        async throws(SourceError) -> Response
    {
        try await send("GET", base, query: query, headers: headers)
    }

    /// Sends `method` (GET, POST, PUT, ...) with an optional body of `contentType`; returns any 2xx response and
    /// throws the mapped `SourceError` for everything else (the same mapping, limits and redirect rules as `get`).
    ///
    ///     let body = try JSONSerialization.data(withJSONObject: ["name": "exp"])
    ///     let r = try await client.send("POST", "http://127.0.0.1:5000/api/2.0/mlflow/experiments/create", body: body)
    public func send(_ method: String, _ base: String, query: [(String, String)] = [], body: Data? = nil,
                     contentType: String = "application/json", headers: [String: String] = [:])
        async throws(SourceError) -> Response
    {
        let result = try await perform(method, base, query: query, body: body, contentType: contentType, headers: headers)
        switch result.status {
        case 200..<300: return result
        case 429: throw .rateLimited(retryAfter: Self.retryAfter(result))
        case 401, 403: throw .unauthorized("HTTP \(result.status): \(Self.message(result.body))")
        case 408, 500..<600: throw .transient("HTTP \(result.status): \(Self.message(result.body))")
        default: throw .invalidRequest("HTTP \(result.status): \(Self.message(result.body))")
        }
    }

    /// Sends `method` and returns the response whatever its HTTP status (a broker maps 4xx answers itself: a
    /// duplicate client order id, insufficient buying power); throws only when no response arrived (timeouts and
    /// connection errors are `.transient`), with the same limits and redirect rules as `send`.
    public func perform(_ method: String, _ base: String, query: [(String, String)] = [], body: Data? = nil,
                        contentType: String = "application/json", headers: [String: String] = [:])
        async throws(SourceError) -> Response
    {
        let url = try Self.url(base, query: query)
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        if Task.isCancelled { throw .cancelled }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await transfer.run(request, callerHeaders: Array(headers.keys), on: session)
        } catch let refusal as HTTPTransfer.Refusal {
            switch refusal {
            case .tooLarge(let limit, let announced):
                throw .badResponse("\(url.host ?? "?"): response body " + (announced.map { "of \($0) bytes " } ?? "")
                                   + "exceeds the \(limit)-byte limit")
            case .tooManyRedirects(let n):
                throw .badResponse("\(url.host ?? "?"): more than \(n - 1) redirects")
            }
        } catch is CancellationError {
            throw .cancelled
        } catch let error as URLError where error.code == .cancelled {
            throw .cancelled
        } catch {
            if Task.isCancelled { throw .cancelled }
            throw .transient("\(url.host ?? "?"): \(UntrustedText.sanitized(error.localizedDescription))")
        }
        guard let http = response as? HTTPURLResponse else { throw .badResponse("not an HTTP response") }
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        let result = Response(status: http.statusCode, headers: fields, body: data)
        Log.debug("http", ["url": "\(url.scheme ?? "")://\(url.host ?? "")\(url.path)", "status": "\(http.statusCode)"])
        return result
    }

    /// Seconds until the rate limit resets: `Retry-After` (delay-seconds or an HTTP-date), or
    /// `X-Ratelimit-Reset` (Unix time in seconds). Always finite and in `0...RetryAfter.maxSeconds` (a vendor's
    /// `1e20`, `inf` or year-9999 date is clamped; the retry policy decides whether to wait that long); nil when
    /// absent or unreadable.
    static func retryAfter(_ response: Response, now: Double = Date().timeIntervalSince1970) -> Double? {
        if let s = response.header("Retry-After"), let v = RetryAfter.seconds(s, now: now) { return v }
        if let s = response.header("X-Ratelimit-Reset"), let v = RetryAfter.resetSeconds(s, now: now) { return v }
        return nil
    }

    /// The vendor's `message` from a JSON error body, else the body's start; sanitised (no terminal escapes,
    /// no control characters, at most `UntrustedText.defaultLimit` characters).
    static func message(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let m = object["message"] {
            return UntrustedText.sanitized("\(m)")
        }
        return UntrustedText.sanitized(String(decoding: body.prefix(2_000), as: UTF8.self), limit: 200)
    }
}
