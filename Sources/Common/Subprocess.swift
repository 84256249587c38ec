import Foundation

/// Runs a program to completion and captures what it wrote — the one place tests, benchmarks and tools start a
/// child process (python references, the built `aitrader`). Standard error is drained on another thread while
/// standard output is read, so a child that writes a lot to both cannot block on a full pipe.
///
///     let r = try Subprocess.run("/usr/bin/python3", ["-c", "print(1)"])
///     r.status == 0, r.output == "1\n"
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
        /// Standard output as UTF-8 text.
        public var output: String { String(decoding: stdout, as: UTF8.self) }
        /// Standard error as UTF-8 text.
        public var errorOutput: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments`; `environment` replaces the inherited one when given, `directory` is the
    /// working directory. Throws only when the program cannot be started; a failing program is a non-zero status.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Every handle is closed here rather than when Foundation releases it: a Process keeps its standard handles
        // open for as long as it lives, and a long-lived caller that runs many children would collect descriptors.
        defer {
            for handle in [out.fileHandleForReading, out.fileHandleForWriting, err.fileHandleForReading,
                           err.fileHandleForWriting] { try? handle.close() }
        }
        try process.run()
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let drained = DrainedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            drained.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: drained.data)
    }

    /// Standard error read by the drain thread; read back only after `group.wait()`.
    private final class DrainedData: @unchecked Sendable {
        var data = Data()
    }
}
