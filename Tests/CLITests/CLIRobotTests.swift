import Common
import Foundation
import MarketData
import Models
import Robot
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader robot run | status | replay` through the binary, and the robot killed with SIGKILL at random moments.
@Suite(.serialized) struct CLIRobotTests {
    /// A data root with the EURUSD sample and a file of deterministic ensemble predictions for its bar closes.
    static func prepare() throws -> (dir: String, predictions: String) {
        let dir = try CLI.temporaryDirectory()
        let imported = try CLI.run(["data", "import", "--csv", CLI.root.path + "/data/sample/EURUSD_H1.csv", "--data-root", dir, "--quiet"])
        #expect(imported.status == 0, "\(imported)")
        let bars = try CSVBarReader().read(path: CLI.root.path + "/data/sample/EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
        var rng = SplitMix64(seed: 7)
        var lines: [String] = []
        for i in 250..<1_400 {
            let p = 0.3 + 0.4 * Double(rng.next() % 10_000) / 10_000
            let c = abs(2 * p - 1)
            let close = i + 1 < bars.count ? min(bars.timestamps[i] + 3_600_000, bars.timestamps[i + 1]) : bars.timestamps[i] + 3_600_000
            let prediction = EnsemblePrediction(symbol: "EURUSD", time: close, pUp: p, alpha: 4 * p, beta: 4 * (1 - p), confidence: c,
                                                direction: c > 0.1 ? (p > 0.5 ? 1 : -1) : 0, agreement: 1, disagreementPenalty: 0,
                                                confidenceThreshold: 0.1, regime: .unknown, volatilityPercentile: 0.5, votes: [],
                                                dataAge: 0)
            lines.append(String(decoding: try RobotJSON.encoder.encode(prediction), as: UTF8.self))
        }
        let path = dir + "/predictions.jsonl"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    static func arguments(_ dir: String, _ predictions: String, session: String) -> [String] {
        ["robot", "run", "--mode", "simulation", "--symbol", "EURUSD", "--predictions", predictions, "--start", "2017-05-08",
         "--end", "2017-06-16", "--risk-profile", "aggressive", "--session", session, "--data-root", dir, "--quiet"]
    }

    @Test func runStatusAndReplay() throws {
        let (dir, predictions) = try Self.prepare()
        let run = try CLI.run(Self.arguments(dir, predictions, session: dir + "/s") + ["--max-cycles", "200"], timeout: 120)
        #expect(run.status == 0, "\(run)")
        let status = try CLI.run(["robot", "status", "--session", dir + "/s", "--json"])
        #expect(status.status == 0, "\(status)")
        let decoded = try RobotJSON.decoder.decode(RobotStatus.self, from: Data(status.stdout.utf8))
        #expect(decoded.cycles == 200 && decoded.ordersSubmitted > 0 && decoded.fills > 0)
        let text = try CLI.run(["robot", "status", "--session", dir + "/s"])
        #expect(text.stdout.contains("200 cycles") && text.stdout.contains("journal:"))
        let replay = try CLI.run(["robot", "replay", "--journal", dir + "/s/journal.sqlite", "--data-root", dir], timeout: 120)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.stdout.contains("identical"))
        // Another session's settings are refused on the same journal; bad input is a usage error, not a crash.
        var other = Self.arguments(dir, predictions, session: dir + "/s")
        other[other.firstIndex(of: "aggressive")!] = "conservative"
        let refused = try CLI.run(other)
        #expect(refused.status == 64 && refused.stderr.contains("other settings"), "\(refused)")
        let both = try CLI.run(["robot", "run", "--symbol", "EURUSD", "--data-root", dir])
        #expect(both.status == 64 && both.stderr.contains("--checkpoints"), "\(both)")
        try "{not json}\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["robot", "run", "--symbol", "EURUSD", "--predictions", dir + "/bad.jsonl", "--data-root", dir,
                               "--session", dir + "/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("bad.jsonl:1"), "\(bad)")
        #expect(CLI.crashText(bad) == nil && CLI.crashText(refused) == nil)
        let missing = try CLI.run(["robot", "status", "--session", dir + "/nothing"])
        #expect(missing.status == 1 && missing.stderr.contains("no robot journal"), "\(missing)")
    }

    /// The robot killed with SIGKILL at random moments and started again each time ends exactly as an uninterrupted
    /// run: the same orders under the same client order ids, the same fills, the same final state — nothing lost,
    /// nothing sent twice.
    @Test func killedAtRandomMomentsItEndsAsAnUninterruptedRun() throws {
        let (dir, predictions) = try Self.prepare()
        let started = Date()
        let whole = try CLI.run(Self.arguments(dir, predictions, session: dir + "/whole"), timeout: 300)
        #expect(whole.status == 0, "\(whole)")
        let wholeSeconds = Date().timeIntervalSince(started)
        let total = Double(try RobotJournal(path: dir + "/whole/journal.sqlite").cycleCount())

        guard let executable = CLI.executable else { Issue.record("aitrader is not built"); return }
        var rng = SplitMix64(seed: SplitMix64.testSeed())
        var kills = 0, attempts = 0, finished = false
        while !finished && attempts < 60 {
            attempts += 1
            // Kill somewhere in what is left of the run (the journal says how much is done): any step of a cycle.
            let done = FileManager.default.fileExists(atPath: dir + "/killed/journal.sqlite")
                ? Double(try RobotJournal(path: dir + "/killed/journal.sqlite").cycleCount()) : 0
            let remaining = max(0, total - done) / total * wholeSeconds
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Self.arguments(dir, predictions, session: dir + "/killed")
            process.currentDirectoryURL = CLI.root
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = kills >= 6 ? 600 : 0.05 + Double(rng.next() % 1_000) / 1_000 * 0.4 * remaining
            let deadline = Date().addingTimeInterval(delay)
            while process.isRunning && Date() < deadline { usleep(5_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                kills += 1
            } else {
                process.waitUntilExit()
                #expect(process.terminationStatus == 0)
                finished = true
            }
        }
        #expect(finished, "the killed session never completed in \(attempts) starts")
        #expect(kills >= 4, "only \(kills) kills landed mid-run")

        let a = try RobotJournal(path: dir + "/whole/journal.sqlite"), b = try RobotJournal(path: dir + "/killed/journal.sqlite")
        let oa = try a.orders(), ob = try b.orders()
        #expect(oa.count == ob.count)
        for (x, y) in zip(oa, ob) {
            #expect(x.clientOrderID == y.clientOrderID && x.request == y.request && x.status == y.status
                    && x.filledQuantity == y.filledQuantity && x.averageFillPrice == y.averageFillPrice, "\(x) vs \(y)")
        }
        #expect(try a.fills() == b.fills())
        #expect(try a.cycleCount() == b.cycleCount())
        #expect(try a.lastCompletedCycle()?.state == b.lastCompletedCycle()?.state)
        #expect(try a.signals().map(\.body) == b.signals().map(\.body))
        #expect(try a.breakerEvents() == b.breakerEvents())
        #expect(try a.riskRejectionCount() == b.riskRejectionCount())
        func status(_ j: RobotJournal) throws -> RobotStatus? {
            guard let text = try j.session("status") else { return nil }
            var s = try RobotJSON.decoder.decode(RobotStatus.self, from: Data(text.utf8))
            s.latencyMedianMs = nil   // wall-clock figures of each process
            s.latencyP99Ms = nil
            s.lastCycleLatencyMs = nil
            return s
        }
        #expect(try status(a) == status(b))
        print("robot kill test: \(kills) kills in \(attempts) starts, \(oa.count) orders, \(try a.fills().count) fills")
    }
}
