import CMicroHTTPD
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on libmicrohttpd (a Debian package, reached through the `CMicroHTTPD` module map) that hands
/// each complete request to a Swift handler and sends back what it returns.
///
/// Threads: libmicrohttpd runs one thread per connection (`MHD_USE_THREAD_PER_CONNECTION`) and calls back on it;
/// the handler runs on that thread and may block (the inference handler waits there for its batch). Everything a
/// callback touches is either immutable (the configuration, the handler) or belongs to one request and is only
/// touched by its connection's thread (`RequestState`), so the bridge needs no lock of its own; the handler must be
/// thread-safe (`@Sendable`).
///
/// Limits: bodies above `maxBodyBytes` are answered 413 without being kept (a `Content-Length` above the limit is
/// refused before any of the body is read); at most `connectionLimit` connections; idle connections close after
/// `idleTimeoutSeconds`.
///
///     let server = try HTTPServer(configuration: .init(host: "127.0.0.1", port: 0)) { request in
///         .json(200, #"{"path":"\#(request.path)"}"#)
///     }
///     try server.start()
///     print(server.port)   // the port the kernel chose
///     server.stop()
public final class HTTPServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// The address to bind: an IPv4 or IPv6 literal or a host name (`127.0.0.1` keeps the server local).
        public var host: String
        /// 0: any free port (read `port` after `start`).
        public var port: Int
        public var maxBodyBytes: Int
        public var connectionLimit: Int
        public var idleTimeoutSeconds: Int

        public init(host: String = "127.0.0.1", port: Int = 8000, maxBodyBytes: Int = 64 << 20, connectionLimit: Int = 512,
                    idleTimeoutSeconds: Int = 120) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.connectionLimit = connectionLimit
            self.idleTimeoutSeconds = idleTimeoutSeconds
        }
    }

    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let configuration: Configuration
    let handler: Handler
    private let lock = NSLock()
    private var daemon: OpaquePointer?
    private var boundPort = 0
    /// Requests begun and not yet completed (their response not yet sent), for `stop(waiting:)`.
    private let activity = NSCondition()
    private var active = 0

    public init(configuration: Configuration, handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
    }

    deinit { stop() }

    /// The port the server listens on (after `start`).
    public var port: Int {
        lock.lock()
        defer { lock.unlock() }
        return boundPort
    }

    /// Binds and starts listening; fails with the reason (address in use, unknown host, ...).
    public func start() throws(HTTPServerError) {
        lock.lock()
        defer { lock.unlock() }
        guard daemon == nil else { return }
        guard (0 ... 65_535).contains(configuration.port) else {
            throw .startup("port \(configuration.port) is not in 0...65535")
        }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(configuration.host, String(configuration.port), &hints, &list)
        guard rc == 0, let first = list, let address = first.pointee.ai_addr else {
            throw .startup("cannot resolve host '\(configuration.host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var flags = MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue
            | MHD_USE_ITC.rawValue | MHD_USE_POLL.rawValue
        if first.pointee.ai_family == AF_INET6 { flags |= MHD_USE_IPv6.rawValue }
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard let started = aitrader_mhd_start(
            flags, address, httpServerAccess, context, httpServerCompleted, context,
            UInt32(max(1, configuration.connectionLimit)), UInt32(max(0, configuration.idleTimeoutSeconds)), 64 << 10)
        else {
            let reason = errno == EADDRINUSE ? "the address is in use" : String(cString: strerror(errno))
            throw .startup("cannot listen on \(configuration.host):\(configuration.port): \(reason)")
        }
        daemon = started
        boundPort = Int(aitrader_mhd_bound_port(started))
    }

    /// Stops accepting new connections (connections already open are served until they close or `stop`).
    public func quiesce() {
        lock.lock()
        defer { lock.unlock() }
        guard let daemon else { return }
        let fd = MHD_quiesce_daemon(daemon)
        if fd >= 0 { close(fd) }
    }

    /// Requests being received, handled or answered.
    public var activeRequests: Int {
        activity.lock()
        defer { activity.unlock() }
        return active
    }

    /// Closes every connection and joins libmicrohttpd's threads, after waiting up to `waiting` seconds for the
    /// requests in progress to be answered (their responses sent).
    public func stop(waiting: Double = 0) {
        if waiting > 0 {
            let deadline = Date(timeIntervalSinceNow: waiting)
            activity.lock()
            while active > 0, activity.wait(until: deadline) {}
            activity.unlock()
        }
        lock.lock()
        let running = daemon
        daemon = nil
        lock.unlock()
        if let running { MHD_stop_daemon(running) }
    }

    // MARK: the bridge (called on libmicrohttpd's threads)

    /// One request's state between libmicrohttpd's calls: created at its first call, released when it completes.
    final class RequestState {
        var body: [UInt8] = []
        var tooLarge = false
    }

    /// Called by libmicrohttpd: first with the headers (state is created), then once per chunk of body, then with
    /// no data (the request is complete: the handler runs and its response is queued).
    func access(connection: OpaquePointer, url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?,
                uploadData: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>?,
                stateSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> MHD_Result {
        guard let stateSlot, let uploadSize else { return .NO }
        guard let raw = stateSlot.pointee else {
            let state = RequestState()
            if let length = header(connection, "Content-Length").flatMap(Int.init), length > configuration.maxBodyBytes {
                state.tooLarge = true
            } else if let length = header(connection, "Content-Length").flatMap(Int.init), length > 0 {
                state.body.reserveCapacity(min(length, configuration.maxBodyBytes))
            }
            stateSlot.pointee = Unmanaged.passRetained(state).toOpaque()
            activity.lock()
            active += 1
            activity.unlock()
            return .YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()
        let size = uploadSize.pointee
        if size > 0 {
            if !state.tooLarge, let uploadData {
                if state.body.count + size > configuration.maxBodyBytes {
                    state.tooLarge = true
                    state.body = []
                } else {
                    uploadData.withMemoryRebound(to: UInt8.self, capacity: size) {
                        state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size))
                    }
                }
            }
            uploadSize.pointee = 0
            return .YES
        }
        let response: HTTPResponse
        if state.tooLarge {
            response = .json(413, #"{"error":"request body larger than the server's limit of \#(configuration.maxBodyBytes) bytes (--max-request-bytes)"}"#,
                             headers: [("Connection", "close")])
        } else {
            let fullURL = url.map { String(cString: $0) } ?? "/"
            var request = HTTPRequest(method: method.map { String(cString: $0) } ?? "GET", path: fullURL, body: state.body)
            if let q = fullURL.firstIndex(of: "?") {
                request.path = String(fullURL[..<q])
                request.query = String(fullURL[fullURL.index(after: q)...])
            }
            request.headers = headers(connection)
            state.body = []
            response = handler(request)
        }
        return queue(response, on: connection)
    }

    func completed(stateSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) {
        guard let stateSlot, let raw = stateSlot.pointee else { return }
        Unmanaged<RequestState>.fromOpaque(raw).release()
        stateSlot.pointee = nil
        activity.lock()
        active -= 1
        activity.broadcast()
        activity.unlock()
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        let created: OpaquePointer? = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                                            .RESPMEM_MUST_COPY)
        }
        guard let mhdResponse = created else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers where !name.contains("\n") && !value.contains("\n") && !value.contains("\r") {
            _ = MHD_add_response_header(mhdResponse, name, value)
        }
        let status = (100 ... 599).contains(response.status) ? response.status : 500
        return MHD_queue_response(connection, UInt32(status), mhdResponse)
    }

    private func header(_ connection: OpaquePointer, _ name: String) -> String? {
        MHD_lookup_connection_value(connection, .HEADER_KIND, name).map { String(cString: $0) }
    }

    private func headers(_ connection: OpaquePointer) -> [String: String] {
        let box = HeaderBox()
        let pointer = Unmanaged.passRetained(box).toOpaque()
        defer { Unmanaged<HeaderBox>.fromOpaque(pointer).release() }
        _ = MHD_get_connection_values(connection, .HEADER_KIND, httpServerHeader, pointer)
        return box.values
    }

    final class HeaderBox {
        var values: [String: String] = [:]
    }
}

// libmicrohttpd's callbacks: plain C functions (no captures) that find the server through the context pointer.

private let httpServerAccess: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, stateSlot in
    guard let cls, let connection else { return .NO }
    return Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
        .access(connection: connection, url: url, method: method, uploadData: uploadData, uploadSize: uploadSize, stateSlot: stateSlot)
}

private let httpServerCompleted: MHD_RequestCompletedCallback = { cls, _, stateSlot, _ in
    guard let cls else { return }
    Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue().completed(stateSlot: stateSlot)
}

private let httpServerHeader: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let box = Unmanaged<HTTPServer.HeaderBox>.fromOpaque(cls).takeUnretainedValue()
    box.values[String(cString: key).lowercased()] = value.map { String(cString: $0) } ?? ""
    return .YES
}
