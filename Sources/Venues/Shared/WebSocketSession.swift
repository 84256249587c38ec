import CWebSockets
import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The libwebsockets side of one `WebSocketConnection`: one lws context (client only, no listening socket), one
/// client connection in it, and one service thread that runs `lws_service` until the connection is gone, then
/// destroys the context.
///
/// Threads. Every lws call except `lws_cancel_service` is made on the service thread: context creation, the
/// connect, the service loop, the callbacks (`webSocketCallback`) and the destroy. Other threads (the callers of
/// `send`, `receive`, `close`) only touch the state under `lock` and wake the loop with `lws_cancel_service`, which
/// lws makes for exactly that; the loop then sees `LWS_CALLBACK_EVENT_WAIT_CANCELLED` and asks for a writeable
/// callback, where the queued frames are written one `lws_write` at a time (lws' rule).
///
/// Lifetime. The service thread holds a strong reference to the session from start to the end of
/// `lws_context_destroy`, so the raw pointer lws hands back to the callback (the context user and the wsi user
/// pointer) is always valid, including for the callbacks lws makes while destroying. `lws_cancel_service` is only
/// called under `lock` while `wakeContext` is set, and the service thread clears it under `lock` before destroying
/// the context, so no other thread can touch a destroyed context.
final class WebSocketSession: @unchecked Sendable {
    let endpoint: WebSocketEndpoint
    let headers: [(name: String, value: String)]
    let maxMessageBytes: Int
    let pingInterval: Double?
    let allowSelfSigned: Bool
    let connectTimeout: Double
    /// Received and not yet taken by `receive()`: above this many bytes lws stops reading the socket (TCP then
    /// pushes back on the server) until the consumer catches up to half of it.
    let receiveBufferLimit: Int

    // MARK: state shared with other threads (under `lock`)

    let lock = NSLock()
    var phase = Phase.connecting
    var ending: Ending?
    var connectWaiter: CheckedContinuation<Result<Void, WebSocketError>, Never>?
    var incoming: [WebSocketMessage] = []
    var incomingHead = 0
    var incomingBytes = 0
    var receiveWaiters: [(id: UInt64, continuation: CheckedContinuation<Result<WebSocketMessage?, WebSocketError>, Never>)] = []
    var cancelledWaiters: Set<UInt64> = []
    var nextWaiterID: UInt64 = 0
    var outgoing: [Outgoing] = []
    var outgoingHead = 0
    var wakeContext: OpaquePointer?
    var abortRequested = false
    var readPaused = false
    var resumeReadRequested = false
    var lastReceivedTime = Date()
    var peerCloseFrame: WebSocketCloseFrame?
    var threadFinished = false
    var finishWaiters: [CheckedContinuation<Void, Never>] = []

    // MARK: service-thread state (no lock: only the service thread touches it)

    var clientWSI: OpaquePointer?
    var wsiDestroyed = false
    var fragments: [UInt8] = []
    var pingDue = false
    /// Set when we end the connection from a receive callback (message too large, invalid UTF-8): the rest of the
    /// frame is ignored and the close is sent from the next writeable callback. Returning non-zero from
    /// CLIENT_RECEIVE in the middle of a frame would leave lws 4.1's frame buffer index unreset while it goes on
    /// parsing to find the close acknowledgement (a heap overflow seen with a 2 MB frame).
    var closingFromReceive = false
    var peerClosed = false
    var connectError: String?
    /// The last error line libwebsockets logged on this service thread (the certificate check's reason).
    var lastLibraryError: String?

    enum Phase { case connecting, open, closing, closed }

    /// How the connection ended: cleanly (our close completed, or the peer closed with 1000) or with an error.
    enum Ending {
        case clean
        case failed(WebSocketError)
    }

    /// A frame waiting for the writeable callback: payload already behind `LWS_PRE` bytes of room for the header.
    enum Outgoing {
        case message(padded: [UInt8], binary: Bool, waiter: CheckedContinuation<Result<Void, WebSocketError>, Never>)
        case close(code: UInt16, reason: [UInt8])
    }

    init(endpoint: WebSocketEndpoint, headers: [(name: String, value: String)], maxMessageBytes: Int,
         pingInterval: Double?, allowSelfSigned: Bool, connectTimeout: Double) {
        self.endpoint = endpoint
        self.headers = headers
        self.maxMessageBytes = maxMessageBytes
        self.pingInterval = pingInterval
        self.allowSelfSigned = allowSelfSigned
        self.connectTimeout = connectTimeout
        receiveBufferLimit = max(8 << 20, maxMessageBytes.multipliedReportingOverflow(by: 4).overflow ? Int.max / 2
                                             : 4 * maxMessageBytes)
    }

    // MARK: the caller's side

    /// Starts the service thread and waits until the connection is open or has failed, at most `connectTimeout`.
    func open() async throws(WebSocketError) {
        if Task.isCancelled { throw .cancelled }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, WebSocketError>, Never>) in
                lock.lock()
                if case .failed(let error)? = ending {
                    lock.unlock()
                    continuation.resume(returning: .failure(error))
                    return
                }
                connectWaiter = continuation
                lock.unlock()
                let thread = Thread { [self] in serviceThreadMain() }
                thread.stackSize = 1 << 20
                thread.start()
                let deadline = DispatchTime.now() + .nanoseconds(Int(connectTimeout * 1e9))
                DispatchQueue.global().asyncAfter(deadline: deadline) { [weak self] in
                    guard let self else { return }
                    abortConnecting(.timeout(host: endpoint.host, port: endpoint.port, seconds: connectTimeout))
                }
            }
        } onCancel: {
            abortConnecting(.cancelled)
        }
        try result.get()
    }

    /// Ends a connection attempt still in progress with `error` (timeout, cancellation); no-op once open or ended.
    func abortConnecting(_ error: WebSocketError) {
        lock.lock()
        guard phase == .connecting, ending == nil else {
            lock.unlock()
            return
        }
        ending = .failed(error)
        phase = .closing
        abortRequested = true
        let waiter = connectWaiter
        connectWaiter = nil
        wakeLocked()
        lock.unlock()
        waiter?.resume(returning: .failure(error))
    }

    func send(_ payload: some Collection<UInt8>, binary: Bool) async throws(WebSocketError) {
        let pre = aitrader_lws_pre()
        var padded = [UInt8](repeating: 0, count: pre)
        padded.reserveCapacity(pre + payload.count)
        padded.append(contentsOf: payload)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, WebSocketError>, Never>) in
            lock.lock()
            guard phase == .open, ending == nil else {
                let error: WebSocketError
                if case .failed(let failure)? = ending { error = failure } else { error = .notOpen }
                lock.unlock()
                continuation.resume(returning: .failure(error))
                return
            }
            outgoing.append(.message(padded: padded, binary: binary, waiter: continuation))
            wakeLocked()
            lock.unlock()
        }
        try result.get()
    }

    func receive() async throws(WebSocketError) -> WebSocketMessage? {
        let id = lock.withLock {
            nextWaiterID += 1
            return nextWaiterID
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<WebSocketMessage?, WebSocketError>, Never>) in
                lock.lock()
                if let message = takeIncomingLocked() {
                    lock.unlock()
                    continuation.resume(returning: .success(message))
                } else if let ending {
                    lock.unlock()
                    continuation.resume(returning: Self.result(of: ending))
                } else if cancelledWaiters.remove(id) != nil {
                    lock.unlock()
                    continuation.resume(returning: .failure(.cancelled))
                } else {
                    receiveWaiters.append((id, continuation))
                    lock.unlock()
                }
            }
        } onCancel: {
            lock.lock()
            if let index = receiveWaiters.firstIndex(where: { $0.id == id }) {
                let waiter = receiveWaiters.remove(at: index)
                lock.unlock()
                waiter.continuation.resume(returning: .failure(.cancelled))
            } else {
                cancelledWaiters.insert(id)
                lock.unlock()
            }
        }
        lock.withLock { _ = cancelledWaiters.remove(id) }
        return try result.get()
    }

    /// Queues a close frame behind the messages already queued (idempotent; before the connection is open it
    /// abandons the attempt).
    func close(code: UInt16, reason: String) {
        lock.lock()
        switch phase {
        case .connecting:
            lock.unlock()
            abortConnecting(.notOpen)
            return
        case .open:
            phase = .closing
            let code = Self.isSendableCloseCode(code) ? code : 1000
            outgoing.append(.close(code: code, reason: Self.truncatedUTF8(reason, maxBytes: 123)))
            wakeLocked()
        case .closing, .closed:
            break
        }
        lock.unlock()
    }

    /// Returns once the service thread has exited and the lws context is destroyed (every socket closed).
    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if threadFinished {
                lock.unlock()
                continuation.resume()
            } else {
                finishWaiters.append(continuation)
                lock.unlock()
            }
        }
    }

    var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        return phase == .open && ending == nil
    }

    var lastReceived: Date {
        lock.lock()
        defer { lock.unlock() }
        return lastReceivedTime
    }

    var peerClose: WebSocketCloseFrame? {
        lock.lock()
        defer { lock.unlock() }
        return peerCloseFrame
    }

    var queuedIncomingBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return incomingBytes
    }

    /// Close codes an endpoint may send (RFC 6455 7.4, the IANA registry): 1000-1003, 1007-1014, 3000-4999; 1005,
    /// 1006 and 1015 only report, 1004 and 1016-2999 are unassigned.
    static func isSendableCloseCode(_ code: UInt16) -> Bool {
        (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
    }

    static func result(of ending: Ending) -> Result<WebSocketMessage?, WebSocketError> {
        switch ending {
        case .clean: .success(nil)
        case .failed(let error): .failure(error)
        }
    }

    /// At most `maxBytes` of `text` in UTF-8, cut at a character boundary.
    static func truncatedUTF8(_ text: String, maxBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if out.count + bytes.count > maxBytes { break }
            out += bytes
        }
        return out
    }

    /// Must hold `lock`.
    func takeIncomingLocked() -> WebSocketMessage? {
        guard incomingHead < incoming.count else { return nil }
        let message = incoming[incomingHead]
        incomingHead += 1
        incomingBytes -= message.count
        if incomingHead == incoming.count {
            incoming.removeAll(keepingCapacity: true)
            incomingHead = 0
        } else if incomingHead > 1024 && incomingHead * 2 > incoming.count {
            incoming.removeFirst(incomingHead)
            incomingHead = 0
        }
        if readPaused && incomingBytes <= receiveBufferLimit / 2 {
            readPaused = false
            resumeReadRequested = true
            wakeLocked()
        }
        return message
    }

    /// Wakes the service loop. Must hold `lock`.
    func wakeLocked() {
        if let wakeContext { lws_cancel_service(wakeContext) }
    }

    /// Records how the connection ended (the first reason wins) and fails whoever waits for something that will not
    /// come: the connect, queued sends, `receive()` once the queue is drained.
    func fail(_ error: WebSocketError) { end(.failed(error)) }

    func end(_ reason: Ending) {
        lock.lock()
        if ending == nil { ending = reason }
        let final = ending!
        phase = .closed
        let connect = connectWaiter
        connectWaiter = nil
        let sends = outgoing[outgoingHead...].compactMap { item -> CheckedContinuation<Result<Void, WebSocketError>, Never>? in
            if case .message(_, _, let waiter) = item { return waiter }
            return nil
        }
        outgoing.removeAll()
        outgoingHead = 0
        var waiters: [CheckedContinuation<Result<WebSocketMessage?, WebSocketError>, Never>] = []
        if incomingHead == incoming.count {
            waiters = receiveWaiters.map(\.continuation)
            receiveWaiters.removeAll()
        }
        lock.unlock()
        let sendError: WebSocketError
        if case .failed(let error) = final { sendError = error } else { sendError = .notOpen }
        connect?.resume(returning: .failure(sendError))
        sends.forEach { $0.resume(returning: .failure(sendError)) }
        waiters.forEach { $0.resume(returning: Self.result(of: final)) }
    }

    func finishThread() {
        lock.lock()
        threadFinished = true
        let waiters = finishWaiters
        finishWaiters.removeAll()
        lock.unlock()
        waiters.forEach { $0.resume() }
    }
}
