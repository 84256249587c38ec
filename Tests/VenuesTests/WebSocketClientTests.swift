import Common
import Foundation
import Testing
@testable import Venues
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The error `receive()` threw, nil if it returned.
func receiveError(_ ws: WebSocketConnection) async -> WebSocketError? {
    do {
        _ = try await ws.receive()
        return nil
    } catch {
        return error
    }
}

/// The error `send(text:)` threw, nil if it returned.
func sendError(_ ws: WebSocketConnection, _ text: String) async -> WebSocketError? {
    do {
        try await ws.send(text: text)
        return nil
    } catch {
        return error
    }
}

/// The error `connect` threw, nil if it connected (the connection is closed then).
func connectError(_ url: String, timeout: Double = 10, allowSelfSigned: Bool = false) async -> WebSocketError? {
    do {
        let ws = try await WebSocketConnection.connect(url: url, timeout: timeout, allowSelfSigned: allowSelfSigned)
        ws.close()
        return nil
    } catch {
        return error
    }
}

/// WebSocketConnection against Fixtures/websocket/ws_test_server.py on 127.0.0.1 (the path picks what the server
/// does). Serialized: the timing tests (silence, pings, back-pressure) want the cores to themselves; the thread and
/// descriptor counts run in a process of their own (`WebSocketLeakChild`).
@Suite(.serialized, .enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason)))
struct WebSocketClientTests {
    static let script = Samples.root.appendingPathComponent("Tests/VenuesTests/Fixtures/websocket/ws_test_server.py").path

    func withServer(_ arguments: [String] = [], _ body: (PythonServer) async throws -> Void) async throws {
        let server = try #require(try PythonServer.start(script: Self.script, arguments: arguments), "python3 is not on PATH")
        defer { server.stop() }
        try await body(server)
    }

    func url(_ server: PythonServer, _ path: String, scheme: String = "ws") -> String {
        "\(scheme)://127.0.0.1:\(server.port)\(path)"
    }

    /// Waits up to `seconds` for `condition` (the server logs asynchronously).
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return condition()
    }

    @Test func echoesTextAndBinaryThenClosesCleanly() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/echo"))
            #expect(ws.isOpen)
            try await ws.send(text: "hello € ✓")
            #expect(try await ws.receive() == .text("hello € ✓"))
            try await ws.send(binary: [0, 1, 2, 255])
            #expect(try await ws.receive() == .binary([0, 1, 2, 255]))
            try await ws.send(text: "")
            #expect(try await ws.receive() == .text(""))
            // Larger than libwebsockets' 64 KiB receive buffer: one frame delivered in pieces, joined.
            let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try await ws.send(binary: big)
            #expect(try await ws.receive() == .binary(big))
            ws.close(code: 1000, reason: "done")
            ws.close()   // idempotent
            #expect(!ws.isOpen)
            #expect(try await ws.receive() == nil)
            #expect(try await ws.receive() == nil)
            #expect(await sendError(ws, "late") == .notOpen)
            await ws.waitUntilClosed()
            #expect(await eventually { server.stderrText.contains("close 1000 done") }, "\(server.stderrText)")
        }
    }

    @Test func binaryJSONFromTheServerAndTheMessagesSequence() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/binary-json"))
            var streams: [String] = []
            for try await message in ws.messages {
                guard case .binary(let bytes) = message,
                      let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    Issue.record("not binary JSON: \(message)")
                    break
                }
                streams.append(object["stream"] as? String ?? "?")
                if streams.count == 2 { break }
            }
            #expect(streams == ["authorization", "listening"])
            ws.close()
            #expect(try await ws.receive() == nil)
        }
    }

    @Test func reassemblesFragmentsAcrossAPingAndASplitCharacter() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/fragments"))
            #expect(try await ws.receive() == .text("price € 1.0842 — ok"))
            #expect(try await ws.receive() == .binary((0..<256).map { UInt8($0) }))
            // The ping between the fragments was answered (the echo still works after it).
            try await ws.send(text: "after")
            #expect(try await ws.receive() == .text("after"))
            ws.close()
        }
    }

    @Test func answersTheServersPing() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/ping"))
            #expect(try await ws.receive() == .text("pong:hello"))
            #expect(server.stderrText.contains("pong hello"))
            ws.close()
        }
    }

    @Test func customHeadersAndHostReachTheServer() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/headers?feed=iex"),
                                                           headers: ["APCA-API-KEY-ID": "PK-test", "X-Trace": "a b"])
            guard case .text(let json)? = try await ws.receive(),
                  let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let headers = object["headers"] as? [String: String] else {
                Issue.record("no header echo")
                return
            }
            #expect(headers["apca-api-key-id"] == "PK-test" && headers["x-trace"] == "a b")
            #expect(headers["host"] == "127.0.0.1:\(server.port)")
            #expect(headers["upgrade"]?.lowercased() == "websocket" && headers["sec-websocket-version"] == "13")
            #expect((object["query"] as? [String: [String]])?["feed"] == ["iex"])
            ws.close()
        }
    }

    @Test func refusedHandshakeNamesTheStatus() async throws {
        try await withServer { server in
            let error = await connectError(url(server, "/refuse"))
            guard case .handshakeRefused(let host, let port, let status, _)? = error else {
                Issue.record("expected a refused handshake, got \(String(describing: error))")
                return
            }
            #expect(host == "127.0.0.1" && port == server.port && status == 401)
            #expect(error?.description.contains("127.0.0.1:\(server.port) refused: HTTP 401") == true, "\(error!)")
            #expect(error?.isTransient == false)
        }
    }

    @Test func droppedConnectionIsConnectionLost() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/drop"))
            #expect(try await ws.receive() == .text("bye"))
            let error = await receiveError(ws)
            guard case .connectionLost(let host, let port, _)? = error else {
                Issue.record("expected connectionLost, got \(String(describing: error))")
                return
            }
            #expect(host == "127.0.0.1" && port == server.port && error?.isTransient == true)
            #expect(!ws.isOpen)
            #expect(await sendError(ws, "x") == error)
            #expect(await receiveError(ws) == error)
        }
    }

    @Test func peerCloseGivesCodeAndReason() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/close?code=4001&reason=subscription%20limit"))
            #expect(try await ws.receive() == .text("closing"))
            #expect(await receiveError(ws) == .closedByPeer(code: 4001, reason: "subscription limit"))
            #expect(ws.peerClose == WebSocketCloseFrame(code: 4001, reason: "subscription limit"))
            #expect(await eventually { server.stderrText.contains("close-reply 4001") }, "\(server.stderrText)")
            // A normal closure (1000) from the server ends the stream without an error.
            let normal = try await WebSocketConnection.connect(url: url(server, "/close?code=1000&reason=bye"))
            #expect(try await normal.receive() == .text("closing"))
            #expect(try await normal.receive() == nil)
            #expect(normal.peerClose == WebSocketCloseFrame(code: 1000, reason: "bye"))
        }
    }

    @Test func silenceLeavesLastReceivedBehindWhilePingsMoveIt() async throws {
        try await withServer { server in
            let silent = try await WebSocketConnection.connect(url: url(server, "/silent"))
            let opened = silent.lastReceived
            try await Task.sleep(nanoseconds: 600_000_000)
            #expect(silent.lastReceived == opened)
            #expect(Date().timeIntervalSince(silent.lastReceived) >= 0.55)
            #expect(silent.isOpen)   // silence alone does not end the connection: the broker decides
            silent.close()
            // Our pings: the pongs arrive.
            let pinging = try await WebSocketConnection.connect(url: url(server, "/echo"), pingInterval: 0.1)
            try await Task.sleep(nanoseconds: 600_000_000)
            #expect(Date().timeIntervalSince(pinging.lastReceived) < 0.35)
            pinging.close()
            // The server's pings (answered inside libwebsockets, never shown as messages) count too.
            let pinged = try await WebSocketConnection.connect(url: url(server, "/server-pings?every=0.1"))
            try await Task.sleep(nanoseconds: 600_000_000)
            #expect(Date().timeIntervalSince(pinged.lastReceived) < 0.35)
            pinged.close()
            #expect(try await pinged.receive() == nil)
        }
    }

    @Test func oversizedMessagesCloseWith1009() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/huge?bytes=2000000"), maxMessageBytes: 1 << 20)
            let error = await receiveError(ws)
            guard case .messageTooLarge(let atLeast, let limit)? = error else {
                Issue.record("expected messageTooLarge, got \(String(describing: error))")
                return
            }
            #expect(limit == 1 << 20 && atLeast > limit)
            #expect(await eventually { server.stderrText.contains("close 1009") }, "\(server.stderrText)")
            // Fragmented: no fragment is too large, the message is.
            let fragmented = try await WebSocketConnection.connect(url: url(server, "/huge?bytes=300000&fragment=40000"),
                                                                   maxMessageBytes: 100_000)
            guard case .messageTooLarge(_, 100_000)? = await receiveError(fragmented) else {
                Issue.record("fragmented oversized message accepted")
                return
            }
            // Exactly at the limit is fine.
            let exact = try await WebSocketConnection.connect(url: url(server, "/huge?bytes=100000&fragment=30000"),
                                                              maxMessageBytes: 100_000)
            #expect(try await exact.receive()?.count == 100_000)
            exact.close()
        }
    }

    @Test func invalidUTF8TextIsAProtocolViolation() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/invalid-utf8"))
            guard case .protocolViolation? = await receiveError(ws) else {
                Issue.record("invalid UTF-8 accepted")
                return
            }
            #expect(await eventually { server.stderrText.contains("close 1007") }, "\(server.stderrText)")
        }
    }

    @Test func closedPortFailsFastNamingHostAndPort() async throws {
        let port = try Self.unusedPort()
        let started = Date()
        let error = await connectError("ws://127.0.0.1:\(port)/stream")
        #expect(Date().timeIntervalSince(started) < 3)
        guard case .cannotConnect(let host, let failedPort, let reason)? = error else {
            Issue.record("expected cannotConnect, got \(String(describing: error))")
            return
        }
        #expect(host == "127.0.0.1" && failedPort == port && reason.contains("refused"), "\(reason)")
        #expect(error?.description.hasPrefix("cannot connect to 127.0.0.1:\(port): ") == true)
        #expect(error?.isTransient == true)
    }

    @Test func unansweredHandshakeTimesOut() async throws {
        try await withServer { server in
            let started = Date()
            let error = await connectError(url(server, "/hang"), timeout: 0.5)
            #expect(error == .timeout(host: "127.0.0.1", port: server.port, seconds: 0.5))
            #expect(Date().timeIntervalSince(started) < 3)
        }
    }

    @Test func cancelledConnectEndsAtOnce() async throws {
        try await withServer { server in
            let started = Date()
            let attempt = Task { await connectError(url(server, "/hang"), timeout: 20) }
            try await Task.sleep(nanoseconds: 150_000_000)
            attempt.cancel()
            #expect(await attempt.value == .cancelled)
            #expect(Date().timeIntervalSince(started) < 3)
        }
    }

    @Test func cancelledReceiveLeavesTheConnectionUsable() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/echo"))
            let waiting = Task { await receiveError(ws) }
            try await Task.sleep(nanoseconds: 100_000_000)
            waiting.cancel()
            #expect(await waiting.value == .cancelled)
            try await ws.send(text: "still here")
            #expect(try await ws.receive() == .text("still here"))
            ws.close()
        }
    }

    @Test func concurrentSendersEachKeepTheirOrder() async throws {
        try await withServer { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/echo"))
            let senders = 8, perSender = 50
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in 0..<senders {
                    group.addTask {
                        for i in 0..<perSender {
                            if i % 2 == 0 { try await ws.send(text: "\(s):\(i)") } else { try await ws.send(binary: Array("\(s):\(i)".utf8)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            var next = [Int](repeating: 0, count: senders)
            for _ in 0..<(senders * perSender) {
                let message = try #require(try await ws.receive())
                let parts = String(decoding: message.bytes, as: UTF8.self).split(separator: ":").compactMap { Int($0) }
                try #require(parts.count == 2)
                #expect(parts[1] == next[parts[0]], "sender \(parts[0]) out of order")
                #expect(message == (parts[1] % 2 == 0 ? .text("\(parts[0]):\(parts[1])") : .binary(Array("\(parts[0]):\(parts[1])".utf8))))
                next[parts[0]] += 1
            }
            #expect(next == [Int](repeating: perSender, count: senders))
            ws.close()
        }
    }

    @Test func slowConsumerPushesBackInsteadOfBufferingWithoutLimit() async throws {
        try await withServer { server in
            // 40 MB of messages while the consumer sleeps: at most the receive buffer (8 MiB) is held.
            let count = 20_000, size = 2_000
            let ws = try await WebSocketConnection.connect(url: url(server, "/flood?count=\(count)&size=\(size)"), maxMessageBytes: 1 << 20)
            try await Task.sleep(nanoseconds: 800_000_000)
            let held = ws.session.queuedIncomingBytes
            #expect(held > 0 && held <= ws.session.receiveBufferLimit + size, "\(held) bytes held")
            #expect(!server.stderrText.contains("flood sent"))   // the server is blocked on a full socket
            for i in 0..<count {
                guard case .text(let text)? = try await ws.receive(), text.hasPrefix("\(i):"), text.utf8.count == size else {
                    Issue.record("message \(i) missing or out of order")
                    return
                }
            }
            #expect(await eventually { server.stderrText.contains("flood sent \(count)") })
            ws.close()
        }
    }

    /// Threads and descriptors are counted per process, and other suites open WebSocket connections while this one
    /// runs: the cycles run in a process of their own (this test binary again, on `WebSocketLeakChild`), where
    /// every websocket thread and descriptor is theirs and the counts can be exact.
    @Test func manyConnectionsLeaveNoThreadOrSocketBehind() throws {
        let child = try Subprocess.run(CommandLine.arguments[0], ["--testing-library", "swift-testing", "--filter", "WebSocketLeakChild"],
                                       environment: ProcessInfo.processInfo.environment.merging([WebSocketLeakChild.variable: "1"]) { $1 })
        let output = child.output + child.errorOutput
        #expect(child.status == 0, "the child's run failed:\n\(output.suffix(6000))")
        #expect(output.contains(WebSocketLeakChild.doneLine), "the child did not run the cycles:\n\(output.suffix(6000))")
    }

    @Test(.enabled(if: WebSocketClientTests.openssl != nil, "openssl is not on PATH (it makes the test's certificate)"))
    func secureConnectionChecksTheCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-wss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: try #require(Self.openssl))
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl req failed")
        try await withServer(["--tls-cert", cert, "--tls-key", key]) { server in
            let ws = try await WebSocketConnection.connect(url: url(server, "/echo", scheme: "wss"), allowSelfSigned: true)
            try await ws.send(text: "over TLS")
            #expect(try await ws.receive() == .text("over TLS"))
            let big = [UInt8](repeating: 7, count: 200_000)
            try await ws.send(binary: big)
            #expect(try await ws.receive() == .binary(big))
            ws.close()
            #expect(try await ws.receive() == nil)
            // Without the test-only switch the self-signed certificate is refused.
            let error = await connectError(url(server, "/echo", scheme: "wss"))
            guard case .cannotConnect(_, let port, let reason)? = error else {
                Issue.record("expected a certificate failure, got \(String(describing: error))")
                return
            }
            #expect(port == server.port && reason.lowercased().contains("cert"), "\(reason)")
        }
    }

    // MARK: helpers

    static let openssl: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/openssl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// A port nothing listens on: bound by us, then released.
    static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// This process' threads named like the WebSocket service threads.
    static func webSocketThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix("websocket-lws") == true
        }.count
    }

    /// Open descriptors whose /proc link contains `kind` ("eventfd", "socket").
    static func descriptors(containing kind: String) -> Int {
        descriptorLinks().filter { $0.contains(kind) }.count
    }

    static func descriptorLinks() -> [String] {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
    }

    /// This process' TCP sockets whose peer is at `port` (matched by inode in /proc/net/tcp and tcp6: libwebsockets
    /// connects to 127.0.0.1 through an IPv6 socket, as ::ffff:127.0.0.1).
    static func socketsConnected(toPort port: Int) -> Int {
        let inodes = Set(descriptorLinks().compactMap { link -> String? in
            guard link.hasPrefix("socket:[") else { return nil }
            return String(link.dropFirst(8).dropLast())
        })
        // Read to the end: String(contentsOfFile:) stops after the first page of a /proc table.
        let table = ["tcp", "tcp6"].map { name in
            FileHandle(forReadingAtPath: "/proc/self/net/\(name)").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        }.joined(separator: "\n")
        let portHex = String(format: "%04X", port)
        return table.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 9 && fields[2].hasSuffix(":" + portHex) && inodes.contains(String(fields[9]))
        }.count
    }
}

/// The body of `WebSocketClientTests.manyConnectionsLeaveNoThreadOrSocketBehind`, run only in the child process that
/// test starts: 30 cycles of every way a connection ends (our close, a close with a code, release without close,
/// refused port, refused handshake, dropped by the server), then no websocket thread, socket or lws wake-up
/// descriptor is left.
@Suite struct WebSocketLeakChild {
    static let variable = "AITRADER_WEBSOCKET_LEAK_CHILD"
    static let doneLine = "websocket leak check: 30 cycles counted"
    private typealias Parent = WebSocketClientTests

    @Test(.enabled(if: ProcessInfo.processInfo.environment[variable] != nil,
                   "runs in its own process, started by WebSocketClientTests.manyConnectionsLeaveNoThreadOrSocketBehind"))
    func thirtyCyclesOfEveryEnding() async throws {
        let suite = Parent()
        try await suite.withServer { server in
            let threadsBefore = Parent.webSocketThreads()
            let eventFDsBefore = Parent.descriptors(containing: "eventfd")
            let refused = try Parent.unusedPort()
            for cycle in 0..<30 {
                let ws = try await WebSocketConnection.connect(url: suite.url(server, "/echo"))
                try await ws.send(text: "cycle \(cycle)")
                #expect(try await ws.receive() == .text("cycle \(cycle)"))
                if cycle == 0 {   // what the counts below look for is there while a connection is open
                    #expect(Parent.webSocketThreads() == threadsBefore + 1)
                    #expect(Parent.socketsConnected(toPort: server.port) == 1)
                    #expect(Parent.descriptors(containing: "eventfd") > eventFDsBefore)   // lws' wake-up descriptor
                }
                switch cycle % 3 {
                case 0:
                    ws.close()
                    await ws.waitUntilClosed()
                case 1:
                    ws.close(code: 4000, reason: "bye")
                    #expect(try await ws.receive() == nil)
                default:
                    break   // released without close(): deinit closes it
                }
                _ = await connectError("ws://127.0.0.1:\(refused)/")
                _ = await connectError(suite.url(server, "/refuse"))
                let dropped = try await WebSocketConnection.connect(url: suite.url(server, "/drop"))
                _ = try await dropped.receive()
                _ = await receiveError(dropped)
            }
            let settled = await suite.eventually(10) {
                Parent.webSocketThreads() == threadsBefore && Parent.socketsConnected(toPort: server.port) == 0
                    && Parent.descriptors(containing: "eventfd") <= eventFDsBefore
            }
            #expect(settled, """
                threads \(threadsBefore) -> \(Parent.webSocketThreads()), sockets to the server \
                \(Parent.socketsConnected(toPort: server.port)), eventfds \(eventFDsBefore) -> \(Parent.descriptors(containing: "eventfd"))
                """)
            print(Self.doneLine)
        }
    }
}
