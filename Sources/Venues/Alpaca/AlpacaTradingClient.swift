import Common
import Foundation
import MarketData
import Trading

/// Alpaca's Trading API v2 over HTTP: the key headers on every request, a client-side token bucket at the
/// account's rate (200 a minute), 429s honoured by waiting until `X-Ratelimit-Reset` (the bucket is emptied until
/// then, so every caller waits), and retries with jittered backoff for requests that are safe to repeat.
///
/// A request that is not safe to repeat (`POST /v2/orders`) is never retried here after it may have reached the
/// server: a timeout, a dropped connection or a 5xx comes back as `Outcome.ambiguous`, and the broker looks the
/// order up by its client order id before anything is sent again. A 429 is safe to repeat (the server did nothing).
struct AlpacaTradingClient: Sendable {
    enum Outcome: Sendable {
        /// Any HTTP answer other than 429 and 5xx: the caller reads the status (4xx carry Alpaca's `code`/`message`).
        case response(HTTPClient.Response)
        /// No answer, or a 5xx, to a request that may have been carried out.
        case ambiguous(String)
    }

    let baseURL: String
    let headers: [String: String]
    let http: HTTPClient
    let bucket: TokenBucket
    let retry: RetryPolicy
    /// 429s answered in a row before giving up with `.rateLimited`.
    let maxRateLimitWaits: Int

    init(configuration c: AlpacaConfiguration) {
        baseURL = c.tradingURL.hasSuffix("/") ? String(c.tradingURL.dropLast()) : c.tradingURL
        headers = c.authHeaders
        http = HTTPClient(timeout: c.timeout, maxResponseBytes: 64 << 20)
        bucket = TokenBucket(capacity: max(1, c.requestsPerMinute / 4), ratePerSecond: Double(c.requestsPerMinute) / 60)
        retry = c.retry
        maxRateLimitWaits = 8
    }

    /// A request safe to repeat (GET, DELETE of an order, PATCH by id): retried on transport errors and 5xx by
    /// the retry policy, on 429 after the reset; answers 2xx and 4xx responses.
    func idempotent(_ method: String, _ path: String, query: [(String, String)] = [], json: [String: Any]? = nil)
        async throws(VenueError) -> HTTPClient.Response
    {
        // `RetryPolicy` retries what is transient: an ambiguous outcome is, for a request safe to repeat; any other
        // failure ends the retries and is thrown as it is.
        var failure: VenueError?
        do throws(SourceError) {
            return try await retry.run("alpaca \(method) \(path)") { () async throws(SourceError) -> HTTPClient.Response in
                let outcome: Outcome
                do throws(VenueError) { outcome = try await once(method, path, query: query, json: json) } catch {
                    failure = error
                    throw .invalidRequest("\(error)")
                }
                switch outcome {
                case .response(let r): return r
                case .ambiguous(let why): throw .transient(why)
                }
            }
        } catch {
            if let failure { throw failure }
            if case .transient(let why) = error { throw .connectivity("Alpaca \(method) \(path): \(why)") }
            throw .connectivity("cancelled")
        }
    }

    /// One request that must not be repeated blindly; 429s are waited out (the server did nothing with them).
    func once(_ method: String, _ path: String, query: [(String, String)] = [], json: [String: Any]? = nil)
        async throws(VenueError) -> Outcome
    {
        var body: Data?
        if let json {
            do { body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]) } catch {
                throw .refused("cannot encode the request to \(path): \(error)")
            }
        }
        var waits = 0
        while true {
            do { try await bucket.acquire() } catch { throw .connectivity("cancelled") }
            let response: HTTPClient.Response
            do {
                response = try await http.perform(method, baseURL + path, query: query, body: body, headers: headers)
            } catch {
                switch error {
                case .transient(let why): return .ambiguous(why)
                case .cancelled: throw .connectivity("cancelled")
                default: throw .invalidResponse("\(error)")
                }
            }
            switch response.status {
            case 429:
                let seconds = HTTPClient.retryAfter(response) ?? 1
                waits += 1
                guard waits <= maxRateLimitWaits, seconds <= retry.maxRetryAfter else {
                    throw .rateLimited(retryAfterMs: Int64(min(RetryAfter.maxSeconds, seconds) * 1000))
                }
                await bucket.pause(for: seconds)
                Log.warning("alpaca rate limit; waiting for the reset", ["path": path, "seconds": String(format: "%.2f", seconds)])
            case 500..<600:
                return .ambiguous("HTTP \(response.status): \(HTTPClient.message(response.body))")
            case 401:
                throw .refused("Alpaca refused the API key (HTTP 401: \(HTTPClient.message(response.body))); "
                               + "check APCA_API_KEY_ID / APCA_API_SECRET_KEY and that they belong to this endpoint (paper or live)")
            default:
                return .response(response)
            }
        }
    }

    /// The JSON object or array of a 2xx response.
    static func json(_ r: HTTPClient.Response, _ what: String) throws(VenueError) -> Any {
        do { return try JSONSerialization.jsonObject(with: r.body.isEmpty ? Data("{}".utf8) : r.body, options: [.fragmentsAllowed]) } catch {
            throw .invalidResponse("\(what): not JSON (\(UntrustedText.sanitized(String(decoding: r.body.prefix(120), as: UTF8.self))))")
        }
    }

    /// Alpaca's error `message` (sanitised) and numeric `code`.
    static func error(_ r: HTTPClient.Response) -> (code: Int?, message: String) {
        let object = (try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any]
        return ((object?["code"] as? NSNumber)?.intValue, HTTPClient.message(r.body))
    }

    static func sleep(_ seconds: Double) async throws(VenueError) {
        do { try await Task.sleep(nanoseconds: RetryAfter.nanoseconds(seconds)) } catch { throw .connectivity("cancelled") }
    }
}
