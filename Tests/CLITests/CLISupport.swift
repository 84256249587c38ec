import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `aitrader` as a user does, with a time limit, and reads the command list from its own help.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `aitrader` executable built beside this test bundle (`swift build --build-tests` builds it).
    static let executable: String? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("aitrader").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let built = root.appendingPathComponent(".build/debug/aitrader").path
        return FileManager.default.isExecutableFile(atPath: built) ? built : nil
    }()

    struct Run: CustomStringConvertible {
        var status: Int32
        /// The signal that ended the process, if one did (a trap is SIGILL / SIGTRAP, an abort SIGABRT).
        var signal: Int32?
        var stdout: String
        var stderr: String
        var timedOut: Bool
        /// The two files (`.out`, `.err`) the run's output went to, removed by the time `run` returns.
        var outputFiles: [String] = []
        var description: String { "status \(status) signal \(signal.map(String.init) ?? "-")\nstdout: \(stdout.prefix(2000))\nstderr: \(stderr.prefix(2000))" }
    }

    /// Runs `aitrader arguments` in the repository root (configs/ are found there), with AITRADER_DATA_ROOT unset
    /// unless `environment` sets it; kills it after `timeout` seconds.
    static func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Double = 60) throws -> Run {
        guard let executable else { throw CLIError(description: "the aitrader executable is not built") }
        var environment = ProcessInfo.processInfo.environment
        environment["AITRADER_DATA_ROOT"] = nil
        for (k, v) in extra { environment[k] = v }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = root
        let outPath = NSTemporaryDirectory() + "aitrader-cli-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: outPath + ".out", contents: nil)
        FileManager.default.createFile(atPath: outPath + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath + ".out")
            try? FileManager.default.removeItem(atPath: outPath + ".err")
        }
        // Closed here, not left to the handles' deinit: Foundation's Process keeps its standard handles (and itself)
        // alive after the child ends, so each run would otherwise leave two descriptors open in the test process.
        // Past about 1,350 of them Foundation's own Process.run reads beyond its /proc/self/fd buffer and crashes.
        guard let outHandle = FileHandle(forWritingAtPath: outPath + ".out"),
              let errHandle = FileHandle(forWritingAtPath: outPath + ".err") else {
            throw CLIError(description: "cannot create the output files in \(NSTemporaryDirectory())")
        }
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        let out = (try? String(contentsOfFile: outPath + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: outPath + ".err", encoding: .utf8)) ?? ""
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        return Run(status: process.terminationStatus, signal: signal, stdout: out, stderr: err, timedOut: timedOut,
                   outputFiles: [outPath + ".out", outPath + ".err"])
    }

    struct CLIError: Error, CustomStringConvertible { var description: String }

    /// Every command path, from `aitrader help`'s "Commands:" section.
    static func commandPaths() throws -> [[String]] {
        let help = try run(["help"]).stdout
        var paths: [[String]] = []
        var inCommands = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Commands:") { inCommands = true; continue }
            if inCommands {
                if line.isEmpty { break }
                // "  data import           import a CSV ..." : the path is the words before the column gap.
                let path = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ")[0]
                paths.append(path.split(separator: " ").map(String.init))
            }
        }
        return paths
    }

    /// A command's declared options from its `--help`: (name, value name or "" for a flag).
    static func declaredOptions(_ path: [String]) throws -> [(name: String, value: String)] {
        let help = try run(path + ["--help"]).stdout
        var options: [(String, String)] = []
        for line in help.split(separator: "\n") where line.hasPrefix("  --") {
            let signature = line.dropFirst(2).components(separatedBy: "  ")[0]
            let parts = signature.split(separator: " ", maxSplits: 1).map(String.init)
            options.append((String(parts[0].dropFirst(2)), parts.count > 1 ? parts[1] : ""))
        }
        return options
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Text a crash leaves behind (a trap, a precondition, a fatal error, an uncaught signal's backtrace).
    static func crashText(_ r: Run) -> String? {
        for marker in ["Fatal error", "Swift runtime failure", "precondition", "Precondition", "Program crashed",
                       "Illegal instruction", "Segmentation fault", "Assertion failed"]
        where r.stdout.contains(marker) || r.stderr.contains(marker) {
            return marker
        }
        return nil
    }
}
