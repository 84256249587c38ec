import Foundation
import MarketData
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client for newline-delimited messages, with a connect timeout and per-operation read/write
/// timeouts, so no call can hang forever. Not thread safe: one owner (the `MT5Connection` actor) uses it.
///
///     let socket = try LineSocket.connect(host: "127.0.0.1", port: 18812, timeout: 5)
///     try socket.writeLine(#"{"id":1,"method":"ping"}"#)
///     let reply = try socket.readLine(maxBytes: 64 << 20)
final class LineSocket: @unchecked Sendable {
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    private init(fd: Int32) { self.fd = fd }
    deinit { close() }

    func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    var isOpen: Bool { fd >= 0 }

    static func connect(host: String, port: Int, timeout: Double) throws(SourceError) -> LineSocket {
        // Configuration input: NaN, negative or absurd timeouts must not trap the conversions below.
        let timeout = timeout.isFinite && timeout > 0 ? min(timeout, 86_400) : 30
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .transient("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let ai = entry {
            entry = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            // Non-blocking connect bounded by poll, then back to blocking with SO_RCVTIMEO / SO_SNDTIMEO.
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var ok = Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0
            if !ok && errno == EINPROGRESS {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&p, 1, Int32(timeout * 1000)) == 1 {
                    var err: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                    ok = err == 0
                    if !ok { lastError = String(cString: strerror(err)) }
                } else {
                    lastError = "connect timed out after \(timeout) s"
                }
            } else if !ok {
                lastError = String(cString: strerror(errno))
            }
            if !ok { _ = Glibc.close(fd); continue }
            _ = fcntl(fd, F_SETFL, flags)
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return LineSocket(fd: fd)
        }
        throw .transient("cannot connect to \(host):\(port): \(lastError)")
    }

    func writeLine(_ text: String) throws(SourceError) {
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        try write(bytes)
    }

    /// Sends `bytes` as they are (no newline added); closes the socket and throws `.transient` on failure.
    func write(_ bytes: [UInt8]) throws(SourceError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "write timed out" : String(cString: strerror(errno))
                close()
                throw .transient("bridge connection: \(reason)")
            }
            sent += n
        }
    }

    /// The next line without its `\n`. Throws `.transient` on timeout or a closed connection.
    func readLine(maxBytes: Int) throws(SourceError) -> String {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[start..<nl], as: UTF8.self)
                start = nl + 1
                if start > 1 << 20 { buffer.removeFirst(start); start = 0 }
                return line
            }
            guard buffer.count - start <= maxBytes else {
                close()
                throw .badResponse("bridge sent a line longer than \(maxBytes) bytes")
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 {
                close()
                throw .transient("bridge closed the connection")
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "read timed out" : String(cString: strerror(errno))
                close()
                throw .transient("bridge connection: \(reason)")
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }
}
