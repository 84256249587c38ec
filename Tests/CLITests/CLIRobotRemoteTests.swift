import Common
import EnsembleTestSupport
import Features
import Foundation
import MarketData
import Models
import Robot
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader robot run --inference-url` through the binaries: `aitrader serve` on small checkpoints (with a bearer
/// token), the robot asking it, the same session with the networks in process — identical journaled signals and
/// orders —, then the server stopped: the next session is refused at start naming the address; the token is never
/// printed.
@Suite(.serialized) struct CLIRobotRemoteTests {
    static let token = "robot-inference-token-5b1e"

    @Test(.enabled(if: CLI.executable != nil, "aitrader executable not built"))
    func remoteSessionEqualsInProcess() throws {
        let executable = try #require(CLI.executable)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root", ck = dir + "/ck"
        let imported = try CLI.run(["data", "import", "--csv", "data/sample/EURUSD_H1.csv", "--symbol", "EURUSD", "--timeframe", "1h",
                                    "--data-root", root, "--quiet"])
        #expect(imported.status == 0, "\(imported)")
        let store = try FeatureStore(root: root, bars: ParquetBarStore(root: root + "/store"),
                                     configDirectory: CLI.root.path + "/configs/features")
        for (n, model) in ModelType.allCases.enumerated() {
            try SmallEnsembleCheckpoints.write(model, seed: UInt64(31 + n), to: "\(ck)/\(model.rawValue)/best.safetensors",
                                               featureStore: store, platt: (6, 0.02))
        }

        let server = Process()
        server.executableURL = URL(fileURLWithPath: executable)
        server.arguments = ["serve", "--model-repository", ck, "--port", "0", "--device", "cpu", "--threads", "1", "--poll-s", "0"]
        server.currentDirectoryURL = CLI.root
        server.environment = ProcessInfo.processInfo.environment.merging(["AITRADER_SERVE_TOKEN": Self.token]) { $1 }
        let out = Pipe()
        defer { try? out.fileHandleForReading.close() }   // Foundation's Process would keep it open while it lives
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        var text = ""
        var chunk = [UInt8](repeating: 0, count: 512)
        let deadline = Date(timeIntervalSinceNow: 60)
        while !text.contains("\n"), Date() < deadline {
            let n = read(out.fileHandleForReading.fileDescriptor, &chunk, chunk.count)
            if n <= 0 { break }
            text += String(decoding: chunk[0..<n], as: UTF8.self)
        }
        let port = try #require(text.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) }, "no address in: \(text)")
        let url = "http://127.0.0.1:\(port)"

        func robot(_ session: String, _ extra: [String], env: [String: String] = [:]) throws -> CLI.Run {
            try CLI.run(["robot", "run", "--mode", "simulation", "--symbol", "EURUSD", "--checkpoints", ck, "--start", "2018-02-01",
                         "--max-cycles", "24", "--risk-profile", "aggressive", "--threads", "1", "--session", dir + "/" + session,
                         "--data-root", root] + extra, environment: env, timeout: 120)
        }
        let noToken = try robot("refused", ["--inference-url", url])
        #expect(noToken.status != 0 && noToken.stderr.contains("requires a bearer token"), "\(noToken)")
        let remote = try robot("remote", ["--inference-url", url], env: ["AITRADER_INFERENCE_TOKEN": Self.token])
        #expect(remote.status == 0, "\(remote)")
        let local = try robot("local", [])
        #expect(local.status == 0, "\(local)")
        for run in [noToken, remote, local] { #expect(!run.stdout.contains(Self.token) && !run.stderr.contains(Self.token)) }

        let a = try RobotJournal(path: dir + "/local/journal.sqlite"), b = try RobotJournal(path: dir + "/remote/journal.sqlite")
        let sa = try a.signals(), sb = try b.signals()
        #expect(sa.count == 24 && sa.map(\.body) == sb.map(\.body))
        #expect(try a.orders().map(\.request) == b.orders().map(\.request))
        print("robot --inference-url vs in process: \(sa.count) signals, \(try a.orders().count) orders, identical")
        #expect(try b.problems().isEmpty)

        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
        let down = try robot("down", ["--inference-url", url], env: ["AITRADER_INFERENCE_TOKEN": Self.token])
        #expect(down.status != 0 && down.stderr.contains("cannot reach the inference server at \(url)"), "\(down)")
        #expect(CLI.crashText(down) == nil)
        let usage = try CLI.run(["robot", "run", "--symbol", "EURUSD", "--predictions", dir + "/p.jsonl", "--inference-url", url,
                                 "--data-root", root])
        #expect(usage.status == 64 && usage.stderr.contains("--inference-url needs --checkpoints"), "\(usage)")
    }
}
