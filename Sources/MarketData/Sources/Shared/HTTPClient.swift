import Common
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal async HTTP GET client over `URLSession` that maps failures onto `SourceError`: timeouts and
/// connection errors and 5xx are transient, 429 is `.rateLimited`, 401/403 `.unauthorized`, other 4xx
/// `.invalidRequest`. Header values are never logged (they carry API keys).
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

    public init(timeout: Double = 30) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 4
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration)
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

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Sends a GET; returns any 2xx response and throws the mapped `SourceError` for everything else.
    public func get(_ base: String, query: [(String, String)] = [], headers: [String: String] = [:])
        async throws(SourceError) -> Response
    {
        let url = try Self.url(base, query: query)
        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if Task.isCancelled { throw .cancelled }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch is CancellationError {
            throw .cancelled
        } catch let error as URLError where error.code == .cancelled {
            throw .cancelled
        } catch {
            if Task.isCancelled { throw .cancelled }
            throw .transient("\(url.host ?? "?"): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw .badResponse("not an HTTP response") }
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        let result = Response(status: http.statusCode, headers: fields, body: data)
        Log.debug("http", ["url": "\(url.scheme ?? "")://\(url.host ?? "")\(url.path)", "status": "\(http.statusCode)"])
        switch http.statusCode {
        case 200..<300: return result
        case 429: throw .rateLimited(retryAfter: Self.retryAfter(result))
        case 401, 403: throw .unauthorized("HTTP \(http.statusCode): \(Self.message(data))")
        case 408, 500..<600: throw .transient("HTTP \(http.statusCode): \(Self.message(data))")
        default: throw .invalidRequest("HTTP \(http.statusCode): \(Self.message(data))")
        }
    }

    /// Seconds until the rate limit resets: `Retry-After` (seconds), or `X-Ratelimit-Reset` (Unix time in seconds).
    static func retryAfter(_ response: Response) -> Double? {
        if let s = response.header("Retry-After"), let v = Double(s) { return max(0, v) }
        if let s = response.header("X-Ratelimit-Reset"), let reset = Double(s) {
            return max(0, reset - Date().timeIntervalSince1970)
        }
        return nil
    }

    /// The vendor's `message` from a JSON error body, else the body's start.
    static func message(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let m = object["message"] {
            return "\(m)"
        }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }
}
