import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP client for code that cannot `await`: a synchronous decision cycle asking an inference server, a test's
/// stand-in proxy. One `URLSession` (connections kept alive between calls) with `HTTPTransfer`'s size cap and
/// redirect vetting; each call blocks its thread until the answer, a failure, or its timeout — measured from the
/// call to the last byte, whatever the server does (trickling bytes does not extend it).
///
/// It answers every HTTP status as a `Response` (the caller knows what a 503 means for it); only what keeps an
/// answer from arriving is an `HTTPClientError`, naming the URL without its query or credentials.
///
///     let client = BlockingHTTPClient(timeout: 5)
///     let r = try client.send("GET", URL(string: "http://127.0.0.1:8000/v2/health/ready")!)
///     r.status   // 200
///
/// The waiting thread is parked on a semaphore while URLSession works on its own delegate queue, so a caller on a
/// Swift-concurrency thread (an actor's cycle) blocks only itself, as a forward pass computed in process would.
public final class BlockingHTTPClient: @unchecked Sendable {
    public struct Response: Sendable {
        public var status: Int
        /// Header names as the server sent them; look them up with `header(_:)`.
        public var headers: [String: String]
        public var body: [UInt8]

        public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// A header by case-insensitive name.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Seconds a call may take when it names no timeout of its own.
    public let timeout: Double
    private let session: URLSession
    private let transfer: HTTPTransfer

    /// `timeout`: seconds per call (NaN, negative or absurd values become 30); `maxResponseBytes`: larger bodies are
    /// refused; `redirectLimit`: redirects followed (never with the caller's headers to another origin).
    public init(timeout: Double = 30, maxResponseBytes: Int = 64 << 20, redirectLimit: Int = 0) {
        self.timeout = Self.sane(timeout)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = self.timeout
        configuration.timeoutIntervalForResource = self.timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        transfer = HTTPTransfer(maxBytes: max(1, maxResponseBytes), redirectLimit: redirectLimit)
        session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Sends `method` to `url` with `headers` and an optional body; returns the response whatever its status.
    public func send(_ method: String, _ url: URL, headers: [String: String] = [:], body: [UInt8]? = nil,
                     timeout: Double? = nil) throws(HTTPClientError) -> Response {
        let seconds = timeout.map(Self.sane) ?? self.timeout
        let shown = Self.display(url)
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw .invalidURL(shown, reason: "not an http:// or https:// address")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = seconds
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body) }

        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome()
        let task = transfer.start(request, callerHeaders: Array(headers.keys), on: session) { result in
            outcome.set(result)
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 5)   // the cancellation's completion; never wait forever on it
            if case .success(let value)? = outcome.get() { return try Self.response(value, url: shown) }
            throw .timeout(shown, seconds: seconds)
        }
        switch outcome.get() {
        case .success(let value)?:
            return try Self.response(value, url: shown)
        case .failure(let error)?:
            throw Self.map(error, url: shown, seconds: seconds)
        case nil:
            throw .unreachable(shown, reason: "the transfer ended without an answer")
        }
    }

    // MARK: helpers

    /// The result handed over from the delegate queue.
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Result<(Data, URLResponse), any Error>?
        func set(_ v: Result<(Data, URLResponse), any Error>) { lock.withLock { value = v } }
        func get() -> Result<(Data, URLResponse), any Error>? { lock.withLock { value } }
    }

    static func sane(_ seconds: Double) -> Double {
        seconds.isFinite && seconds > 0 ? min(seconds, 86_400) : 30
    }

    static func response(_ value: (Data, URLResponse), url: String) throws(HTTPClientError) -> Response {
        guard let http = value.1 as? HTTPURLResponse else { throw .unreachable(url, reason: "the answer is not HTTP") }
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)"] = "\(v)" }
        return Response(status: http.statusCode, headers: fields, body: [UInt8](value.0))
    }

    static func map(_ error: any Error, url: String, seconds: Double) -> HTTPClientError {
        if let refusal = error as? HTTPTransfer.Refusal {
            switch refusal {
            case .tooLarge(let limit, _): return .tooLarge(url, limit: limit)
            case .tooManyRedirects: return .redirected(url)
            }
        }
        if let e = error as? URLError {
            switch e.code {
            case .timedOut: return .timeout(url, seconds: seconds)
            case .cannotConnectToHost: return .unreachable(url, reason: "connection refused (nothing listens there, or a firewall)")
            case .cannotFindHost, .dnsLookupFailed: return .unreachable(url, reason: "unknown host")
            case .networkConnectionLost: return .unreachable(url, reason: "the connection was closed before the answer")
            case .notConnectedToInternet: return .unreachable(url, reason: "no network")
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                 .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
                return .unreachable(url, reason: "TLS failed: \(e.localizedDescription)")
            default: break
            }
        }
        return .unreachable(url, reason: String((error as NSError).localizedDescription.prefix(200)))
    }

    /// scheme://host[:port]/path — no credentials, no query (they may carry secrets).
    public static func display(_ url: URL) -> String {
        var out = (url.scheme ?? "?") + "://" + (url.host ?? "?")
        if let port = url.port { out += ":\(port)" }
        return out + url.path
    }
}

/// Why an HTTP call got no answer, naming the address (scheme, host, port, path; never a query or credentials).
///
///     // "cannot reach http://127.0.0.1:8000/v2/models/short_term: connection refused (nothing listens there, or a firewall)"
///     // "http://10.0.0.5:8000/v2/models/short_term/infer did not answer within 2 s"
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case unreachable(String, reason: String)
    case timeout(String, seconds: Double)
    case tooLarge(String, limit: Int)
    case redirected(String)

    public var description: String {
        switch self {
        case let .invalidURL(url, reason): "bad address \(url): \(reason)"
        case let .unreachable(url, reason): "cannot reach \(url): \(reason)"
        case let .timeout(url, seconds): "\(url) did not answer within \(Self.seconds(seconds))"
        case let .tooLarge(url, limit): "\(url) answered more than \(limit) bytes; refused"
        case let .redirected(url): "\(url) answered with a redirect; give the final address"
        }
    }

    /// A duration as messages write it: `5 s`, `0.25 s`.
    public static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3g s", s)
    }
}
