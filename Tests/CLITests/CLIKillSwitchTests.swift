import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader robot kill-switch`: trip, show, reset with a wrong and the right token; the token appears in no output.
@Suite struct CLIKillSwitchTests {
    static let token = "cli-kill-switch-token-5d1e0c77"

    /// Runs the binary with `input` on standard input; (status, stdout, stderr).
    static func run(_ arguments: [String], input: String = "", environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let executable = try #require(CLI.executable)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["AITRADER_KILL_SWITCH_TOKEN"] = nil
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        defer {   // closed here: Foundation's Process keeps its handles open for as long as it lives
            for pipe in [stdin, stdout, stderr] {
                try? pipe.fileHandleForReading.close()
                try? pipe.fileHandleForWriting.close()
            }
        }
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile(), err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func tripShowAndResetOnlyWithTheToken() throws {
        let dir = try CLI.temporaryDirectory()
        let state = dir + "/ks.json", tokenFile = dir + "/token"
        try Data((Self.token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
        chmod(tokenFile, 0o644)
        var outputs: [String] = []
        let open = try Self.run(["robot", "kill-switch", "--state", state, "--token-file", tokenFile])
        #expect(open.0 == 64 && open.2.contains("readable by others"), "\(open)")
        chmod(tokenFile, 0o600)
        let base = ["robot", "kill-switch", "--state", state, "--token-file", tokenFile]

        let tripped = try Self.run(base + ["--trigger", "desk halt"])
        #expect(tripped.0 == 0 && tripped.1.contains("kill switch ACTIVE since") && tripped.1.contains("manual: desk halt"), "\(tripped)")
        let wrong = try Self.run(base + ["--reset"], input: "not-the-token-000000\n")
        #expect(wrong.0 == 1 && wrong.2.contains("the authorization token does not match"), "\(wrong)")
        let still = try Self.run(base + ["--json"])
        #expect(still.0 == 0 && still.1.contains(#""active" : true"#), "\(still)")
        let none = try Self.run(base + ["--reset"])
        #expect(none.0 == 64, "\(none)")
        let right = try Self.run(["robot", "kill-switch", "--state", state, "--reset"], input: Self.token + "\n",
                                 environment: ["AITRADER_KILL_SWITCH_TOKEN": Self.token])
        #expect(right.0 == 0 && right.1.contains("kill switch inactive"), "\(right)")
        #expect(right.1.contains("reset: reset by an operator"))
        let both = try Self.run(base + ["--reset", "--trigger", "x"])
        #expect(both.0 == 64)
        for r in [open, tripped, wrong, still, none, right, both] { outputs += [r.1, r.2] }
        outputs.append(try String(contentsOfFile: state, encoding: .utf8))
        for text in outputs { #expect(!text.contains(Self.token), "\(text)") }
    }
}
