import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Python helper server started for one test (the fake Alpaca API, the MetaTrader 5 bridge): launched with the
/// first `python3` on PATH, bound to 127.0.0.1 on an ephemeral port it prints as `PORT <n>`, and terminated when
/// the test ends. Suites that use it are skipped (reported as skips) when python3 is not installed — and fail
/// instead where AITRADER_REQUIRE_REFERENCE=1 (CI): `start` returns nil then, and the test `#require`s a server.
public final class PythonServer: @unchecked Sendable {
    let process: Process
    /// The read end of the server's standard output and its standard error file: closed by `stop()` (Foundation's
    /// Process keeps its handles open for as long as it lives, which can be past the test).
    let handles: [FileHandle]
    public let port: Int
    /// The server's standard error, kept in a file (a pipe nobody drains could block it).
    public let stderrPath: String

    public static var python: String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether a suite that needs python3 runs: it is installed, or its absence must fail (CI).
    public static var shouldRun: Bool { python != nil || ReferencePython.isRequired() }
    public static let skipReason = "python3 is not on PATH (the fake servers need only its standard library)"

    private init(process: Process, handles: [FileHandle], port: Int, stderrPath: String) {
        self.process = process
        self.handles = handles
        self.port = port
        self.stderrPath = stderrPath
    }

    /// The server process's id (tests read its memory and threads from /proc on Linux).
    public var processIdentifier: Int32 { process.processIdentifier }

    public var stderrText: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public static func start(script: String, arguments: [String], environment: [String: String] = [:],
                      timeout: Double = 15) throws -> PythonServer? {
        guard let python else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u", script] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let stderrPath = NSTemporaryDirectory() + "aitrader-test-\(UUID().uuidString).stderr"
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        guard let errorHandle = FileHandle(forWritingAtPath: stderrPath) else {
            throw ServerError(message: "cannot create \(stderrPath)")
        }
        process.standardOutput = out
        process.standardError = errorHandle
        do { try process.run() } catch {
            try? errorHandle.close()
            try? out.fileHandleForReading.close()
            throw error
        }
        // The child has its copies; the parent keeps only the read end of standard output.
        try? errorHandle.close()
        try? out.fileHandleForWriting.close()
        // Read the "PORT n" line with a deadline.
        let handle = out.fileHandleForReading
        let box = LineBox()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            // read(2) directly: FileHandle.availableData can wait for end of file on Linux pipes.
            var buffer = Data()
            var chunk = [UInt8](repeating: 0, count: 256)
            while !buffer.contains(0x0A) {
                let n = read(handle.fileDescriptor, &chunk, chunk.count)
                if n <= 0 { break }
                buffer.append(contentsOf: chunk[0..<n])
            }
            box.line = String(decoding: buffer, as: UTF8.self)
            done.signal()
        }
        guard done.wait(timeout: .now() + timeout) == .success,
              let line = box.line?.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }),
              let port = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces)) else {
            process.terminate()
            process.waitUntilExit()
            try? handle.close()
            let message = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw ServerError(message: "\(script) did not report its port: \(message)")
        }
        return PythonServer(process: process, handles: [handle], port: port, stderrPath: stderrPath)
    }

    public func stop() {
        // SIGKILL: the test runner can start children with SIGTERM blocked, and these servers need no cleanup.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        for handle in handles { try? handle.close() }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }

    deinit { stop() }

    struct ServerError: Error, CustomStringConvertible { let message: String; var description: String { message } }
    final class LineBox: @unchecked Sendable { var line: String? }
}
