import Common
import Foundation
import Testing
import MarketData
@testable import Venues
import TestSupport

/// The audit's holes in `integrations/mt5/mt5_bridge.py`, reproduced against the real script (fake `MetaTrader5`
/// module, 127.0.0.1, ephemeral port) and shown closed: connections are capped, a client that does not complete the
/// handshake is dropped after `--handshake-timeout`, an oversized line is answered `too_large` with the bridge's
/// memory bounded, malformed handshakes are answered with an error while the bridge keeps serving, and the token and
/// password never appear on the command line. Every loop is bounded; every socket call has a timeout.
@Suite(.enabled(if: PythonServer.shouldRun, Comment(rawValue: PythonServer.skipReason))) struct MT5BridgeSecurityTests {
    static let token = MT5SourceTests.token

    func withBridge(_ arguments: [String], environment: [String: String] = ["AITRADER_MT5_TOKEN": MT5SourceTests.token],
                    _ body: (PythonServer) throws -> Void) throws {
        var env = environment
        env["PYTHONPATH"] = MT5SourceTests.fakeModule
        let server = try #require(try PythonServer.start(script: MT5SourceTests.bridge,
                                                         arguments: ["--port", "0", "--log-level", "WARNING",
                                                                     "--max-lifetime", "600"] + arguments,
                                                         environment: env),
                                  "python3 is not on PATH")
        defer { server.stop() }
        try body(server)
        #expect(!server.stderrText.contains("Traceback"), "the bridge raised: \(server.stderrText)")
    }

    func connect(_ server: PythonServer) throws -> LineSocket {
        try LineSocket.connect(host: "127.0.0.1", port: server.port, timeout: 10)
    }

    func hello(_ token: String = Self.token) -> String {
        #"{"id":1,"method":"hello","params":{"token":"\#(token)","protocol":1}}"#
    }

    /// The error code of a bridge reply line, nil if it is not an error reply.
    func errorCode(_ line: String) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    /// True once the bridge has closed `socket` (end of input or reset), reading at most a few lines.
    func closedByBridge(_ socket: LineSocket) -> Bool {
        for _ in 0..<4 {
            do { _ = try socket.readLine(maxBytes: 1 << 16) } catch {
                return "\(error)".contains("closed") || "\(error)".contains("reset")
            }
        }
        return false
    }

    /// A client past the handshake, retried briefly while the bridge releases the slots of closing clients.
    func admittedClient(_ server: PythonServer) throws -> LineSocket {
        var lastReply = ""
        for _ in 1...50 {
            let socket = try connect(server)
            try socket.writeLine(hello())
            lastReply = (try? socket.readLine(maxBytes: 1 << 16)) ?? "closed"
            if !lastReply.isEmpty && errorCode(lastReply) == nil { return socket }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw SourceError.transient("not admitted after 50 tries: \(lastReply)")
    }

    /// A good client's request succeeds: the bridge is still serving.
    func stillServes(_ server: PythonServer) throws {
        let socket = try admittedClient(server)
        try socket.writeLine(#"{"id":2,"method":"tick","params":{"symbol":"EURUSD"}}"#)
        let reply = try socket.readLine(maxBytes: 1 << 16)
        #expect(reply.contains("\"bid\":1.10012"), "\(reply)")
    }

    #if os(Linux)
    /// `VmRSS` or `Threads` of a process from /proc (Linux), in kB for VmRSS.
    func procStatus(_ pid: Int32, _ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        return line.flatMap { Int($0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0]) }
    }
    #endif

    /// Hole: 500 idle connections -> 502 threads, each kept 300 s before the handshake. Now: at most
    /// `--max-connections` are admitted (the rest are answered `busy` and closed) and an admitted client that sends
    /// no handshake is answered `timeout` and closed after `--handshake-timeout` (0.5 s here; the client waits 10 s).
    @Test func idleConnectionsAreCappedAndDroppedAfterTheHandshakeTimeout() throws {
        try withBridge(["--max-connections", "8", "--handshake-timeout", "0.5"]) { server in
            var sockets: [LineSocket] = []
            for _ in 0..<100 { sockets.append(try connect(server)) }
            #if os(Linux)
            // main thread + max-lifetime timer + at most 8 client threads.
            let threads = try #require(procStatus(server.processIdentifier, "Threads"))
            #expect(threads <= 8 + 2, "\(threads) bridge threads for 100 idle connections")
            #endif
            var codes: [String: Int] = [:]
            for socket in sockets {
                let reply = try socket.readLine(maxBytes: 1 << 16)
                codes[errorCode(reply) ?? "none", default: 0] += 1
                #expect(closedByBridge(socket))
            }
            #expect(codes["busy", default: 0] + codes["timeout", default: 0] == 100, "\(codes)")
            #expect(codes["busy", default: 0] >= 100 - 8 * 4, "\(codes)")   // slots free up only as idle ones time out
            #expect(codes["timeout", default: 0] >= 8, "\(codes)")
            try stillServes(server)
        }
    }

    /// A full bridge answers `busy`; a slot freed by a leaving client is given to the next one.
    @Test func connectionCapIsEnforcedAndSlotsAreReused() throws {
        try withBridge(["--max-connections", "3"]) { server in
            var admitted: [LineSocket] = []
            for _ in 0..<3 {
                let socket = try connect(server)
                try socket.writeLine(hello())
                #expect(errorCode(try socket.readLine(maxBytes: 1 << 16)) == nil)
                admitted.append(socket)
            }
            let refused = try connect(server)
            #expect(errorCode(try refused.readLine(maxBytes: 1 << 16)) == "busy")
            #expect(closedByBridge(refused))
            admitted.removeFirst().close()
            try stillServes(server)
            withExtendedLifetime(admitted) {}
        }
    }

    /// Hole: 100 clients sending 1 MiB without a newline -> RSS 27 -> 129 MB. Now a line longer than its limit
    /// (4 KiB before the handshake, 1 MiB after) is answered `too_large` and the connection closed, and buffered
    /// input is bounded by max-connections x (limit + one 64 KiB read): 8 x 68 KiB here, so the bridge's resident
    /// memory grows by far less than the 100 MiB the clients send (16 MiB allows for thread stacks and allocator slack).
    @Test func oversizedLinesAreRefusedAndMemoryStaysBounded() throws {
        try withBridge(["--max-connections", "8"]) { server in
            let megabyte = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            #if os(Linux)
            let before = try #require(procStatus(server.processIdentifier, "VmRSS"))
            #endif
            var sockets: [LineSocket] = []
            for _ in 0..<100 {
                let socket = try connect(server)
                try? socket.write(megabyte)   // a refused client's write may fail: the bridge closed it
                sockets.append(socket)
            }
            #if os(Linux)
            let after = try #require(procStatus(server.processIdentifier, "VmRSS"))
            #expect(after - before < 16 << 10, "bridge RSS grew from \(before) kB to \(after) kB")
            #endif
            var codes: [String: Int] = [:]
            for socket in sockets {
                let reply = (try? socket.readLine(maxBytes: 1 << 16)) ?? "reset"
                codes[errorCode(reply) ?? reply, default: 0] += 1
            }
            #expect(codes["too_large", default: 0] >= 8, "\(codes)")
            #expect(Set(codes.keys).isSubset(of: ["too_large", "busy", "reset"]), "\(codes)")

            // After the handshake the limit is 1 MiB: one byte more is refused the same way.
            let client = try admittedClient(server)
            try client.write(megabyte + [UInt8(ascii: "x")])
            #expect(errorCode(try client.readLine(maxBytes: 1 << 16)) == "too_large")
            #expect(closedByBridge(client))
            withExtendedLifetime(sockets) {}
            try stillServes(server)
        }
    }

    /// Hole: malformed handshakes raised uncaught exceptions (no reply, a traceback). Now each one is answered with an
    /// error naming what is wrong, the connection is closed, and the bridge goes on serving; `withBridge` checks that
    /// no traceback reached its log.
    @Test func malformedHandshakesAreAnsweredWithAnError() throws {
        let cases: [(String, String)] = [
            (#"{"id":1,"method":"hello","params":"token"}"#, "bad_request"),
            (#"{"id":1,"method":"hello","params":["token"]}"#, "bad_request"),
            (#"[1,2,3]"#, "bad_request"),
            (#"not json"#, "bad_request"),
            (String(repeating: "[", count: 3000), "bad_request"),
            (#"{"id":{"a":1},"method":"hello","params":{"token":"x"}}"#, "bad_request"),
            (#"{"id":1,"method":7}"#, "bad_request"),
            (#"{"id":1,"method":"hello","params":{"token":12345678}}"#, "unauthorized"),
            (#"{"id":1,"method":"ping"}"#, "unauthorized"),
            (#"{"id":1,"method":"hello","params":{"token":"\#(Self.token)","protocol":"one"}}"#, "protocol"),
        ]
        try withBridge([]) { server in
            for (line, code) in cases {
                let socket = try connect(server)
                try socket.writeLine(line)
                let reply = try socket.readLine(maxBytes: 1 << 16)
                #expect(errorCode(reply) == code, "\(line.prefix(60)) -> \(reply)")
                #expect(closedByBridge(socket), "\(line.prefix(60))")
            }
            // Invalid UTF-8.
            let socket = try connect(server)
            try socket.write([0xFF, 0xFE, 0x7B, 0x0A])
            #expect(errorCode(try socket.readLine(maxBytes: 1 << 16)) == "bad_request")
            try stillServes(server)
        }
    }

    /// Hole: `--token` and `--password` were command-line flags, readable by every local user in `ps`. Now they are
    /// refused with a message saying why; the token comes from `AITRADER_MT5_TOKEN` or a `--token-file` only its owner
    /// can read (a group- or world-readable file is refused), and is absent from the process's command line.
    @Test func secretsAreReadFromTheEnvironmentOrAPrivateFileNeverArgv() throws {
        for flag in ["--token", "--password"] {
            do {
                try withBridge([flag, "s3cret-on-argv"]) { _ in Issue.record("the bridge started with \(flag)") }
            } catch {
                #expect("\(error)".contains("visible to every user"), "\(error)")
            }
        }
        try withBridge([]) { server in
            #if os(Linux)
            let argv = try String(contentsOfFile: "/proc/\(server.processIdentifier)/cmdline", encoding: .utf8)
            #expect(!argv.contains(Self.token))
            #endif
            try stillServes(server)
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mt5-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("token").path
        try Data((Self.token + "\n").utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            try withBridge(["--token-file", file], environment: [:]) { _ in Issue.record("a world-readable token file was accepted") }
        } catch {
            #expect("\(error)".contains("readable by other users"), "\(error)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        try withBridge(["--token-file", file], environment: [:]) { server in
            try stillServes(server)
            let wrong = try connect(server)
            try wrong.writeLine(hello("not-the-token"))
            #expect(errorCode(try wrong.readLine(maxBytes: 1 << 16)) == "unauthorized")
        }
    }
}
