import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The URLSession delegate behind the HTTP clients (`Venues.HTTPClient`, async; `BlockingHTTPClient`): collects
/// each response body (refusing one larger than `maxBytes`, by its Content-Length or as it arrives), and vets every
/// redirect: at most `maxRedirects` (0: none followed), and a redirect to another origin (scheme, host or port) is
/// followed WITHOUT the caller's headers — they carry API keys and tokens, which must never reach a server they
/// were not meant for.
///
/// (A delegate-driven data task, not `data(for:)`: swift-corelibs-foundation follows redirects of
/// completion-handler tasks itself, copying every header, without asking any delegate.)
///
///     let transfer = HTTPTransfer(maxBytes: 1 << 20)
///     let session = URLSession(configuration: .ephemeral, delegate: transfer, delegateQueue: nil)
///     let (body, response) = try await transfer.run(request, callerHeaders: ["Authorization"], on: session)
public final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    public static let maxRedirects = 10

    /// Why a transfer was stopped by us rather than by the network.
    public enum Refusal: Error, Sendable {
        case tooLarge(limit: Int, announced: Int64?)
        case tooManyRedirects(Int)
    }

    /// What a finished transfer hands back: the final body and response, or why there is none.
    public typealias Completion = @Sendable (Result<(Data, URLResponse), any Error>) -> Void

    private struct State {
        var data = Data()
        var redirects = 0
        var refusal: Refusal?
        /// Header names the caller set (stripped on a cross-origin redirect).
        var callerHeaders: [String]
        var completion: Completion
    }

    private let lock = NSLock()
    private var states: [Int: State] = [:]
    public let maxBytes: Int
    /// Redirects followed before the transfer is refused (`Refusal.tooManyRedirects`).
    public let redirectLimit: Int

    public init(maxBytes: Int, redirectLimit: Int = HTTPTransfer.maxRedirects) {
        self.maxBytes = maxBytes
        self.redirectLimit = max(0, redirectLimit)
    }

    /// Starts `request` on `session` (whose delegate is self); `completion` is called exactly once, on the session's
    /// delegate queue. Cancel the returned task to stop it (the completion then gets the cancellation error).
    @discardableResult
    public func start(_ request: URLRequest, callerHeaders: [String], on session: URLSession,
                      completion: @escaping Completion) -> URLSessionDataTask {
        let task = session.dataTask(with: request)
        lock.withLock { states[task.taskIdentifier] = State(callerHeaders: callerHeaders, completion: completion) }
        task.resume()
        return task
    }

    /// Runs `request` on `session` (whose delegate is self) and returns the final body and response.
    public func run(_ request: URLRequest, callerHeaders: [String], on session: URLSession) async throws -> (Data, URLResponse) {
        let box = TaskBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let task = start(request, callerHeaders: callerHeaders, on: session) { continuation.resume(with: $0) }
                box.set(task)
            }
        } onCancel: {
            box.cancel()
        }
    }

    /// The task of an async run, for cancellation that may arrive before or after it starts.
    private final class TaskBox: @unchecked Sendable {
        private let lock = NSLock()
        private var task: URLSessionDataTask?
        private var cancelled = false

        func set(_ t: URLSessionDataTask) {
            let cancelNow = lock.withLock { () -> Bool in
                task = t
                return cancelled
            }
            if cancelNow { t.cancel() }
        }

        func cancel() {
            let t = lock.withLock { () -> URLSessionDataTask? in
                cancelled = true
                return task
            }
            t?.cancel()
        }
    }

    /// `scheme://host:port` with the scheme's default port made explicit, lowercased.
    public static func origin(_ url: URL?) -> String? {
        guard let url, let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(host):\(port)"
    }

    /// The request to send on a redirect from `original` to `next`: unchanged on the same origin, else without
    /// the caller's headers and any credential header.
    public static func redirected(_ next: URLRequest, from original: URL?, callerHeaders: [String]) -> URLRequest {
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

    public func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        let (count, headers) = lock.withLock { () -> (Int, [String]) in
            states[task.taskIdentifier]?.redirects += 1
            return (states[task.taskIdentifier]?.redirects ?? 0, states[task.taskIdentifier]?.callerHeaders ?? [])
        }
        guard count <= redirectLimit else {
            completionHandler(nil)
            stop(task, .tooManyRedirects(count))
            return
        }
        completionHandler(Self.redirected(request, from: response.url ?? task.currentRequest?.url, callerHeaders: headers))
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let announced = response.expectedContentLength
        if announced > Int64(maxBytes) {
            lock.withLock { states[dataTask.taskIdentifier]?.refusal = .tooLarge(limit: maxBytes, announced: announced) }
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
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

    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let state = lock.withLock({ states.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let refusal = state.refusal {
            state.completion(.failure(refusal))
        } else if let error {
            state.completion(.failure(error))
        } else if let response = task.response {
            state.completion(.success((state.data, response)))
        } else {
            state.completion(.failure(URLError(.badServerResponse)))
        }
    }
}
