import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The URLSession delegate behind `HTTPClient`: collects each response body (refusing one larger than
/// `maxBytes`, by its Content-Length or as it arrives), and vets every redirect: at most `maxRedirects`, and
/// a redirect to another origin (scheme, host or port) is followed WITHOUT the caller's headers — they carry
/// API keys, which must never reach a server they were not meant for.
///
/// (A delegate-driven data task, not `data(for:)`: swift-corelibs-foundation follows redirects of
/// completion-handler tasks itself, copying every header, without asking any delegate.)
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    static let maxRedirects = 10

    /// Why a transfer was stopped by us rather than by the network.
    enum Refusal: Error {
        case tooLarge(limit: Int, announced: Int64?)
        case tooManyRedirects(Int)
    }

    private struct State {
        var data = Data()
        var redirects = 0
        var refusal: Refusal?
        /// Header names the caller set (stripped on a cross-origin redirect).
        var callerHeaders: [String]
        var continuation: CheckedContinuation<(Data, URLResponse), any Error>
    }

    private let lock = NSLock()
    private var states: [Int: State] = [:]
    let maxBytes: Int

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Runs `request` on `session` (whose delegate is self) and returns the final body and response.
    func run(_ request: URLRequest, callerHeaders: [String], on session: URLSession) async throws -> (Data, URLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.withLock {
                    states[task.taskIdentifier] = State(callerHeaders: callerHeaders, continuation: continuation)
                }
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    /// `scheme://host:port` with the scheme's default port made explicit, lowercased.
    static func origin(_ url: URL?) -> String? {
        guard let url, let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(host):\(port)"
    }

    /// The request to send on a redirect from `original` to `next`: unchanged on the same origin, else without
    /// the caller's headers and any credential header.
    static func redirected(_ next: URLRequest, from original: URL?, callerHeaders: [String]) -> URLRequest {
        guard let from = origin(original), origin(next.url) != from else { return next }
        var stripped = next
        for name in callerHeaders + ["Authorization", "Proxy-Authorization", "Cookie"] {
            stripped.setValue(nil, forHTTPHeaderField: name)
        }
        return stripped
    }

    private func stop(_ task: URLSessionTask, _ refusal: Refusal) {
        lock.withLock { states[task.taskIdentifier]?.refusal = refusal }
        task.cancel()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        let (count, headers) = lock.withLock { () -> (Int, [String]) in
            states[task.taskIdentifier]?.redirects += 1
            return (states[task.taskIdentifier]?.redirects ?? 0, states[task.taskIdentifier]?.callerHeaders ?? [])
        }
        guard count <= Self.maxRedirects else {
            completionHandler(nil)
            stop(task, .tooManyRedirects(count))
            return
        }
        completionHandler(Self.redirected(request, from: response.url ?? task.currentRequest?.url, callerHeaders: headers))
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let announced = response.expectedContentLength
        if announced > Int64(maxBytes) {
            lock.withLock { states[dataTask.taskIdentifier]?.refusal = .tooLarge(limit: maxBytes, announced: announced) }
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overflow = lock.withLock { () -> Bool in
            guard var state = states[dataTask.taskIdentifier] else { return false }
            states[dataTask.taskIdentifier] = nil   // avoid a copy of the buffer while appending
            let over = state.data.count + data.count > maxBytes
            if over { state.refusal = .tooLarge(limit: maxBytes, announced: nil) } else { state.data.append(data) }
            states[dataTask.taskIdentifier] = state
            return over
        }
        if overflow { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let state = lock.withLock({ states.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let refusal = state.refusal {
            state.continuation.resume(throwing: refusal)
        } else if let error {
            state.continuation.resume(throwing: error)
        } else if let response = task.response {
            state.continuation.resume(returning: (state.data, response))
        } else {
            state.continuation.resume(throwing: URLError(.badServerResponse))
        }
    }
}
