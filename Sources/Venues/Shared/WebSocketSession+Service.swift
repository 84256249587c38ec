import CWebSockets
import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The service thread of a `WebSocketSession` and the libwebsockets callbacks it runs: the context and the client
/// connection are created, serviced and destroyed here, and nowhere else (see `WebSocketSession` for the thread
/// model). Everything in this file runs on the service thread.
extension WebSocketSession {
    // MARK: the service thread

    func serviceThreadMain() {
        aitrader_name_current_thread("websocket-lws")
        WebSocketSession.configureLogging
        pthread_setspecific(WebSocketSession.logOwnerKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(WebSocketSession.logOwnerKey, nil) }
        var strings: [UnsafeMutablePointer<CChar>] = []
        func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            strings.append(p)
            return p
        }
        let protocols = UnsafeMutablePointer<lws_protocols>.allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(cString("aitrader-websocket"))
        protocols[0].callback = webSocketCallback
        protocols[0].rx_buffer_size = 64 << 10
        defer {
            protocols.deinitialize(count: 2)
            protocols.deallocate()
            strings.forEach { free($0) }
        }

        var info = lws_context_creation_info()
        info.port = aitrader_lws_no_listen_port()
        info.protocols = UnsafePointer(protocols)
        info.gid = -1
        info.uid = -1
        info.options = endpoint.secure ? aitrader_lws_client_context_options() : 0
        info.user = Unmanaged.passUnretained(self).toOpaque()
        // Our own deadline (open()) is the precise one; lws' are backstops for its internal states.
        let backstop = UInt32(min(86_400, max(1, connectTimeout.rounded(.up) + 1)))
        info.timeout_secs = backstop
        info.connect_timeout_secs = backstop
        // Per-context fd table: a handful (the wake pipe, the socket, a retry on the next DNS address), not the
        // process' ulimit (lws would allocate a lookup table that size for every connection).
        info.fd_limit_per_thread = 16
        // Room for the caller's handshake headers (16 KiB at most) and the server's response headers.
        info.pt_serv_buf_size = 32 << 10
        info.max_http_header_data = 16 << 10

        guard let context = lws_create_context(&info) else {
            fail(.cannotConnect(host: endpoint.host, port: endpoint.port,
                                reason: "libwebsockets could not create its context (out of memory or TLS setup failed)"))
            finishThread()
            return
        }
        lock.lock()
        wakeContext = context
        let abortedEarly = abortRequested
        lock.unlock()

        if !abortedEarly {
            var connect = lws_client_connect_info()
            connect.context = context
            connect.address = UnsafePointer(cString(endpoint.host))
            connect.port = Int32(endpoint.port)
            connect.path = UnsafePointer(cString(endpoint.target))
            connect.host = UnsafePointer(cString(endpoint.hostHeader))
            connect.local_protocol_name = protocols[0].name
            connect.userdata = Unmanaged.passUnretained(self).toOpaque()
            // Never follow a redirect: the handshake headers (credentials) must not go to another origin.
            var flags = Int32(LCCSCF_HTTP_NO_FOLLOW_REDIRECT.rawValue)
            if endpoint.secure {
                flags |= Int32(LCCSCF_USE_SSL.rawValue)
                if allowSelfSigned { flags |= Int32(LCCSCF_ALLOW_SELFSIGNED.rawValue) }
            }
            connect.ssl_connection = flags
            connect.alpn = UnsafePointer(cString("http/1.1"))
            if lws_client_connect_via_info(&connect) == nil {
                // lws reported through CLIENT_CONNECTION_ERROR if it got that far; otherwise say what we know.
                fail(.cannotConnect(host: endpoint.host, port: endpoint.port, reason: connectError ?? "connection could not be started"))
                wsiDestroyed = true
            }
            while !wsiDestroyed {
                if lws_service(context, 0) < 0 { break }
                noteTrafficFromKernel()
            }
        }

        lock.lock()
        wakeContext = nil
        lock.unlock()
        lws_context_destroy(context)
        if !wsiDestroyed {
            fail(.connectionLost(host: endpoint.host, port: endpoint.port, reason: "the service loop stopped"))
        }
        finishThread()
    }

    /// The kernel knows when the socket last received data, including frames lws answers itself and never shows
    /// us (the server's pings): `lastReceived` follows it, so a server that only pings is not taken for silent.
    func noteTrafficFromKernel() {
        #if os(Linux)
        guard let wsi = clientWSI, !wsiDestroyed else { return }
        let fd = lws_get_socket_fd(wsi)
        guard fd >= 0 else { return }
        var tcp = tcp_info()
        var size = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &tcp, &size) == 0 else { return }
        let when = Date(timeIntervalSinceNow: -Double(tcp.tcpi_last_data_recv) / 1000)
        lock.lock()
        if phase == .open, when.timeIntervalSince(lastReceivedTime) > 0.001 { lastReceivedTime = when }
        lock.unlock()
        #endif
    }

    // MARK: callbacks (service thread)

    func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ isClient: Bool,
                _ input: UnsafeMutableRawPointer?, _ length: Int, errno savedErrno: Int32) -> Int32 {
        if isClient, clientWSI == nil, reason != LWS_CALLBACK_WSI_DESTROY { clientWSI = wsi }
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            serviceWakeUp()
        case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
            guard isClient, let input else { return 0 }
            let position = input.assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self)
            guard let start = position.pointee else { return -1 }
            let end = start + length
            for header in headers {
                let added = (header.name + ":").withCString { name in
                    header.value.withCString { value in
                        lws_add_http_header_by_name(wsi, UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                                                    UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self),
                                                    Int32(strlen(value)), position, end)
                    }
                }
                if added != 0 {
                    connectError = "the handshake headers do not fit in libwebsockets' buffer"
                    return -1
                }
            }
        case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
            guard isClient else { return 0 }
            let text = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
            connectionFailed(wsi, lwsReason: text, errno: savedErrno)
        case LWS_CALLBACK_CLIENT_ESTABLISHED:
            guard isClient else { return 0 }
            lock.lock()
            let stillWanted = phase == .connecting && ending == nil
            if stillWanted {
                phase = .open
                lastReceivedTime = Date()
            }
            let waiter = connectWaiter
            connectWaiter = nil
            lock.unlock()
            guard stillWanted else { return -1 }
            waiter?.resume(returning: .success(()))
            if let pingInterval { lws_set_timer_usecs(wsi, Int64(pingInterval * 1e6)) }
        case LWS_CALLBACK_CLIENT_RECEIVE:
            guard isClient else { return 0 }
            return received(wsi, input, length)
        case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
            markReceived()
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            guard isClient else { return 0 }
            markReceived()
            var frame = WebSocketCloseFrame(code: 1005, reason: "")
            if let input, length >= 2 {
                let bytes = UnsafeRawBufferPointer(start: input, count: length)
                frame.code = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
                frame.reason = UntrustedText.sanitized(String(decoding: bytes[2...], as: UTF8.self), limit: 123)
            }
            peerClosed = true
            lock.lock()
            peerCloseFrame = frame
            lock.unlock()
        case LWS_CALLBACK_CLIENT_WRITEABLE:
            guard isClient else { return 0 }
            return writeable(wsi)
        case LWS_CALLBACK_TIMER:
            guard isClient, let pingInterval, isOpen else { return 0 }
            pingDue = true
            lws_callback_on_writable(wsi)
            lws_set_timer_usecs(wsi, Int64(pingInterval * 1e6))
        case LWS_CALLBACK_CLIENT_CLOSED:
            guard isClient else { return 0 }
            closed()
        case LWS_CALLBACK_WSI_DESTROY:
            guard isClient, wsi == clientWSI || clientWSI == nil else { return 0 }
            lock.lock()
            let pending = ending == nil
            let wasOpen = phase != .connecting
            lock.unlock()
            if pending {
                fail(wasOpen ? .connectionLost(host: endpoint.host, port: endpoint.port, reason: "")
                     : .cannotConnect(host: endpoint.host, port: endpoint.port, reason: connectError ?? "closed before the handshake"))
            }
            clientWSI = nil
            wsiDestroyed = true
        default:
            break
        }
        return 0
    }

    func serviceWakeUp() {
        lock.lock()
        let abort = abortRequested
        let wantsWrite = outgoingHead < outgoing.count && phase != .connecting
        let resumeRead = resumeReadRequested
        resumeReadRequested = false
        lock.unlock()
        guard let wsi = clientWSI, !wsiDestroyed else { return }
        if abort {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
            return
        }
        if resumeRead { lws_rx_flow_control(wsi, 1) }
        if wantsWrite { lws_callback_on_writable(wsi) }
    }

    func connectionFailed(_ wsi: OpaquePointer, lwsReason: String, errno savedErrno: Int32) {
        let reason = UntrustedText.sanitized(lwsReason, limit: 200)
        let status = Int(lws_http_client_http_response(wsi))
        if reason.hasPrefix("HS:") || (status > 0 && status != 101) {
            let detail = reason.hasPrefix("HS: ws upgrade") ? "" : String(reason.dropFirst(reason.hasPrefix("HS: ") ? 4 : 0))
            fail(.handshakeRefused(host: endpoint.host, port: endpoint.port, status: status, reason: detail))
        } else {
            fail(.cannotConnect(host: endpoint.host, port: endpoint.port,
                                reason: connectFailure(reason, errno: savedErrno, libraryError: lastLibraryError)))
        }
    }

    /// lws' connect failures in words: its texts name internal states ("Unable to connect", "connect SSL err 1:
    /// error:00000001:lib(0)::reason(1)") and it keeps no errno (the socket is closed by the time it reports).
    /// The certificate check it logged, the kernel's error, or, on this failure path only, a look at DNS and one
    /// more TCP connect attempt (`probeTCP`) say what happened.
    func connectFailure(_ text: String, errno code: Int32, libraryError: String?) -> String {
        if text.contains("SSL") || text.contains("TLS") || text.lowercased().contains("tls") {
            if let libraryError, libraryError.hasPrefix("SSL error: ") {
                let what = libraryError.dropFirst("SSL error: ".count).split(separator: "(").first ?? ""
                return "the server's TLS certificate was not accepted: \(what.trimmingCharacters(in: .whitespaces))"
            }
            return "TLS handshake failed (\(libraryError ?? text))"
        }
        if [ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET, ECONNABORTED, EADDRNOTAVAIL, ENETDOWN]
            .contains(code) {
            return String(cString: strerror(code)).lowercased()
        }
        if text == "Unable to connect" || text.contains("getaddrinfo") || text.contains("lookup") {
            return Self.probeTCP(host: endpoint.host, port: endpoint.port, timeout: min(2, connectTimeout))
                ?? "the TCP connection failed"
        }
        return text.isEmpty ? "the connection failed" : text
    }

    /// Why a TCP connection to host:port fails, in the resolver's or the kernel's words ("connection refused",
    /// "cannot resolve ...: Name or service not known"); nil if it succeeds now. Blocks up to `timeout` per address.
    static func probeTCP(host: String, port: Int, timeout: Double) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { return "cannot resolve \(host): \(String(cString: gai_strerror(rc)))" }
        defer { freeaddrinfo(list) }
        var why: String?
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue),
                            address.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { _ = Glibc.close(fd) }
            var error: Int32 = 0
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
                error = errno
                if error == EINPROGRESS {
                    var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&poller, 1, Int32(max(1, timeout * 1000))) == 1 {
                        var length = socklen_t(MemoryLayout<Int32>.size)
                        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                    } else {
                        error = ETIMEDOUT
                    }
                }
            }
            if error == 0 { return nil }
            why = why ?? String(cString: strerror(error)).lowercased()
        }
        return why
    }

    func markReceived() {
        lock.lock()
        lastReceivedTime = Date()
        lock.unlock()
    }

    func received(_ wsi: OpaquePointer, _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        markReceived()
        if closingFromReceive { return 0 }
        if lws_is_first_fragment(wsi) != 0 { fragments.removeAll(keepingCapacity: fragments.capacity <= 1 << 20) }
        if fragments.count + length > maxMessageBytes {
            let atLeast = fragments.count + length + Int(lws_remaining_packet_payload(wsi))
            fail(.messageTooLarge(atLeast: atLeast, limit: maxMessageBytes))
            closeFromReceive(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE)
            return 0
        }
        if let input, length > 0 {
            fragments.append(contentsOf: UnsafeRawBufferPointer(start: input, count: length))
        }
        guard lws_is_final_fragment(wsi) != 0 else { return 0 }
        let message: WebSocketMessage
        if lws_frame_is_binary(wsi) != 0 {
            message = .binary(fragments)
        } else if let text = String(validating: fragments, as: UTF8.self) {
            message = .text(text)
        } else {
            fail(.protocolViolation("a text message is not valid UTF-8"))
            closeFromReceive(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD)
            return 0
        }
        fragments = []
        lock.lock()
        var waiter: CheckedContinuation<Result<WebSocketMessage?, WebSocketError>, Never>?
        var pause = false
        if !receiveWaiters.isEmpty {
            waiter = receiveWaiters.removeFirst().continuation
        } else {
            incoming.append(message)
            incomingBytes += message.count
            if incomingBytes > receiveBufferLimit && !readPaused {
                readPaused = true
                pause = true
            }
        }
        lock.unlock()
        waiter?.resume(returning: .success(message))
        if pause { lws_rx_flow_control(wsi, 0) }
        return 0
    }

    func closeFromReceive(_ wsi: OpaquePointer, _ status: lws_close_status) {
        closingFromReceive = true
        fragments = []
        lws_close_reason(wsi, status, nil, 0)
        lws_callback_on_writable(wsi)
    }

    func writeable(_ wsi: OpaquePointer) -> Int32 {
        if closingFromReceive { return -1 }
        if pingDue {
            pingDue = false
            var frame = [UInt8](repeating: 0, count: aitrader_lws_pre())
            let written = frame.withUnsafeMutableBufferPointer {
                lws_write(wsi, $0.baseAddress! + aitrader_lws_pre(), 0, LWS_WRITE_PING)
            }
            if written < 0 { return -1 }
            lws_callback_on_writable(wsi)
            return 0
        }
        lock.lock()
        guard outgoingHead < outgoing.count else {
            lock.unlock()
            return 0
        }
        let item = outgoing[outgoingHead]
        outgoingHead += 1
        if outgoingHead == outgoing.count {
            outgoing.removeAll(keepingCapacity: true)
            outgoingHead = 0
        }
        let more = outgoingHead < outgoing.count
        lock.unlock()
        switch item {
        case .message(var padded, let binary, let waiter):
            let pre = aitrader_lws_pre()
            let length = padded.count - pre
            let written = padded.withUnsafeMutableBufferPointer {
                lws_write(wsi, $0.baseAddress! + pre, length, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT)
            }
            if written < length {
                let error = WebSocketError.connectionLost(host: endpoint.host, port: endpoint.port, reason: "writing failed")
                fail(error)
                waiter.resume(returning: .failure(error))
                return -1
            }
            waiter.resume(returning: .success(()))
        case .close(let code, var reason):
            reason.withUnsafeMutableBufferPointer {
                lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code)), $0.baseAddress, $0.count)
            }
            return -1
        }
        if more { lws_callback_on_writable(wsi) }
        return 0
    }

    /// CLIENT_CLOSED: after our close completed, the peer's close, or a dropped connection.
    func closed() {
        lock.lock()
        let weClosed = phase == .closing
        let frame = peerCloseFrame
        lock.unlock()
        if let frame, peerClosed, !weClosed {
            end(frame.code == 1000 ? .clean : .failed(.closedByPeer(code: frame.code, reason: frame.reason)))
        } else if weClosed || peerClosed {
            end(.clean)
        } else {
            fail(.connectionLost(host: endpoint.host, port: endpoint.port, reason: ""))
        }
    }

    /// lws logs errors only, to our standard error with its name in front; its chatter about normal connection
    /// life (info, notice, warnings about retries) is off. Process-wide, set once.
    static let configureLogging: Void = {
        lws_set_log_level(aitrader_lws_log_errors()) { _, line in
            guard let line else { return }
            let text = String(cString: line)
            // On a service thread the line belongs to that thread's connection: kept for its error message (a
            // refused certificate is only said here) instead of printed; anywhere else it goes to stderr.
            if let owner = pthread_getspecific(WebSocketSession.logOwnerKey) {
                let session = Unmanaged<WebSocketSession>.fromOpaque(owner).takeUnretainedValue()
                session.lastLibraryError = UntrustedText.sanitized(text.trimmingCharacters(in: .whitespacesAndNewlines), limit: 300)
            } else {
                _ = ("libwebsockets: " + text).withCString { write(STDERR_FILENO, $0, strlen($0)) }
            }
        }
    }()

    /// Thread-specific: the session whose service thread this is (for the log callback).
    static let logOwnerKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

/// The one lws callback. One session per lws context, so the session is the context's user pointer; the client
/// connection is the wsi whose user space is that same pointer (the wake-up pipe and context-wide events have
/// none). `user` itself is not trusted to be the session: for some reasons lws passes other things in it (the X509
/// store for PERFORM_SERVER_CERT_VERIFICATION). Runs on the service thread only.
private func webSocketCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                               _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
    let savedErrno = errno   // before anything else: for a failed connect it still holds connect(2)'s error
    guard let wsi, let context = lws_get_context(wsi), let raw = lws_context_user(context) else { return 0 }
    let session = Unmanaged<WebSocketSession>.fromOpaque(raw).takeUnretainedValue()
    let isClient = lws_wsi_user(wsi) == raw
    return session.handle(wsi, reason, isClient, input, length, errno: savedErrno)
}
