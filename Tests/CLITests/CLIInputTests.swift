import Common
import Foundation
import MarketData
import Testing

/// Each input a user reported as crashing the binary or giving confidently wrong numbers now gets a clear error
/// with the documented exit status (64 usage, 65 bad input data, 1 other failure) or a correct result.
@Suite(.enabled(if: CLI.executable != nil, "the aitrader executable is not built"))
struct CLIInputTests {
    static let goog = CLI.root.appendingPathComponent("data/sample/GOOG_D1.csv").path
    static let eurusd = CLI.root.appendingPathComponent("data/sample/EURUSD_H1.csv").path

    /// A fresh data root with the GOOG sample imported as GOOG and as GOOGL (daily).
    static func dailyRoot() throws -> String {
        let root = try CLI.temporaryDirectory()
        for symbol in ["GOOG", "GOOGL"] {
            let r = try CLI.run(["data", "import", "--csv", goog, "--symbol", symbol, "--timeframe", "1d",
                                 "--data-root", root])
            #expect(r.status == 0, "\(r)")
        }
        return root
    }

    @Test(arguments: ["0", "-100", "nan", "inf"])
    func cashMustBePositive(_ cash: String) throws {
        let out = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--strategy", "sma_cross",
                             "--output", out + "/bt", "--cash", cash])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("--cash"), "\(r)")
        #expect(CLI.crashText(r) == nil && r.signal == nil, "\(r)")
        #expect(!FileManager.default.fileExists(atPath: out + "/bt"), "nothing written")
    }

    @Test(arguments: ["-0.01", "1", "2"])
    func commissionMustBeAFraction(_ rate: String) throws {
        let unused = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-unused-\(UUID().uuidString)").path
        let r = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--output", unused,
                             "--commission", rate])
        #expect(r.status == 64 && r.stderr.contains("--commission must be a fraction in [0, 1)"), "\(r)")
    }

    @Test func failuresThatAreNotUsageErrorsExitOne() throws {
        let root = try Self.dailyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let nope = try CLI.run(["data", "validate", "--symbol", "NOPE", "--data-root", root])
        #expect(nope.status == 1 && nope.stderr.contains("no stored dataset matches NOPE"), "\(nope)")
        #expect(!nope.stderr.contains("Usage:"), "not a usage error: \(nope)")
        let few = try CLI.run(["backtest", "--symbol", "GOOG", "--timeframe", "1d", "--start", "2010-01-04",
                               "--end", "2010-01-04", "--output", root + "/bt", "--data-root", root])
        #expect(few.status == 1 && few.stderr.contains("a backtest needs at least 2"), "\(few)")
        let update = try CLI.run(["data", "update", "--symbol", "NOPE", "--timeframe", "1h", "--source", "csv",
                                  "--data-root", root])
        #expect(update.status == 1 && update.stderr.contains("1 of 1 datasets failed to update"), "\(update)")
    }

    @Test func badInputDataExitsSixtyFive() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/BAD_D1.csv"
        try "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10,9,11,10.5,100\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try CLI.run(["data", "import", "--csv", csv, "--data-root", dir + "/root"])
        #expect(r.status == 65, "low > high is bad input data: \(r)")
        let checkpoint = dir + "/ck.safetensors"
        try Data(repeating: 0xFF, count: 64).write(to: URL(fileURLWithPath: checkpoint))
        let forward = try CLI.run(["model", "forward", "--checkpoint", checkpoint, "--input", checkpoint,
                                   "--output", dir + "/y.safetensors"])
        #expect(forward.status == 65 && forward.signal == nil, "a garbage checkpoint is bad input data: \(forward)")
    }

    /// The global options (`--threads`, `--device`) are accepted by every command that computes.
    @Test func globalOptionsEverywhere() throws {
        let root = try Self.dailyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let runs: [[String]] = [
            ["backtest", "--symbol", "GOOG", "--timeframe", "1d", "--output", root + "/bt", "--data-root", root, "--quiet"],
            ["features", "compute", "--symbol", "GOOG", "--timeframe", "1d", "--model", "long_term", "--data-root", root],
            ["indicators", "compute", "--input", Self.goog, "--output", root + "/ind.csv", "--indicators", "rsi_14"],
            ["data", "list", "--data-root", root],
            ["data", "show", "--symbol", "GOOG", "--timeframe", "1d", "--data-root", root, "--rows", "2"],
        ]
        for words in runs {
            let r = try CLI.run(words + ["--threads", "2", "--device", "cpu"])
            #expect(r.status == 0, "aitrader \(words.joined(separator: " ")) --threads 2 --device cpu: \(r)")
        }
    }

    /// `--end` includes its day (or its instant) in every command: data show, features show and backtest agree on
    /// the last bar.
    @Test func endIsInclusiveEverywhere() throws {
        let root = try Self.dailyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let shown = try CLI.run(["data", "show", "--symbol", "GOOG", "--timeframe", "1d", "--start", "2010-01-04",
                                 "--end", "2010-01-08", "--rows", "all", "--data-root", root])
        #expect(shown.status == 0, "\(shown)")
        let rows = shown.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 5 && rows.last?.hasPrefix("2010-01-08") == true, "Mon..Fri inclusive: \(shown.stdout)")
        let instant = try CLI.run(["data", "show", "--symbol", "GOOG", "--timeframe", "1d", "--start", "2010-01-04",
                                   "--end", "2010-01-08T00:00:00Z", "--rows", "all", "--data-root", root])
        #expect(instant.stdout.split(separator: "\n").last?.hasPrefix("2010-01-08") == true, "an instant is included")
        let features = try CLI.run(["features", "show", "--symbol", "GOOG", "--timeframe", "1d", "--model", "long_term",
                                    "--end", "2010-01-08", "--rows", "1", "--data-root", root])
        #expect(features.status == 0 && features.stdout.contains("2010-01-08T00:00:00Z"), "\(features)")
        let bt = try CLI.run(["backtest", "--symbol", "GOOG", "--timeframe", "1d", "--end", "2010-01-08",
                              "--output", root + "/bt", "--data-root", root, "--quiet"])
        #expect(bt.status == 0, "\(bt)")
        let equity = try String(contentsOfFile: root + "/bt/equity.csv", encoding: .utf8)
        #expect(equity.split(separator: "\n").last?.hasPrefix("2010-01-08") == true, "\(equity.suffix(200))")
    }

    @Test func severalSymbolsRunEach() throws {
        let root = try Self.dailyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try CLI.run(["backtest", "--symbol", "GOOG,GOOGL", "--timeframe", "1d", "--output", root + "/bt",
                             "--data-root", root, "--quiet"])
        #expect(r.status == 0, "\(r)")
        for symbol in ["GOOG", "GOOGL"] {
            #expect(FileManager.default.fileExists(atPath: root + "/bt/\(symbol)/summary.json"), "\(symbol)")
        }
        let features = try CLI.run(["features", "compute", "--symbol", "GOOG,GOOGL", "--timeframe", "1d",
                                    "--model", "long_term", "--data-root", root])
        #expect(features.status == 0 && features.stdout.contains("GOOG 1d long_term")
                && features.stdout.contains("GOOGL 1d long_term"), "\(features)")
        let twice = try CLI.run(["backtest", "--symbol", "GOOG,GOOG", "--output", root + "/bt2", "--data-root", root])
        #expect(twice.status == 64 && twice.stderr.contains("names a symbol twice"), "\(twice)")
    }

    /// Long work reports progress as plain lines when stderr is not a terminal (AITRADER_PROGRESS_DELAY=0 so the
    /// short sample run reports at all).
    @Test func progressLinesWhenNotATerminal() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--timeframe", "1d", "--output", dir],
                            environment: ["AITRADER_PROGRESS_DELAY": "0"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("backtest GOOG: 100% (2148/2148 bars"), "\(r.stderr)")
        #expect(!r.stderr.contains("\r") && !r.stderr.contains("\u{1B}"), "plain lines: \(r.stderr)")
        // The global --quiet silences progress in every command (here indicator progress of features compute).
        let root = try Self.dailyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let loud = try CLI.run(["features", "compute", "--symbol", "GOOG", "--timeframe", "1d", "--model", "long_term",
                                "--data-root", root], environment: ["AITRADER_PROGRESS_DELAY": "0"])
        #expect(loud.status == 0 && loud.stderr.contains("features GOOG 1d long_term: 100%"), "\(loud)")
        let quiet = try CLI.run(["features", "compute", "--symbol", "GOOG", "--timeframe", "1d", "--model", "long_term",
                                 "--force", "--quiet", "--data-root", root], environment: ["AITRADER_PROGRESS_DELAY": "0"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("%"), "\(quiet)")
    }

    /// A negative commission in the simulation config is bad input data naming the file, line and key.
    @Test func negativeCommissionInTheConfigIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = try String(contentsOfFile: CLI.root.appendingPathComponent("configs/simulation.yaml").path,
                                encoding: .utf8)
        let rate = try #require(config.range(of: #"rate: *[0-9.]+"#, options: .regularExpression), "configs/simulation.yaml has a rate")
        config.replaceSubrange(rate, with: "rate: -0.01")
        try config.write(toFile: dir + "/sim.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--config", dir + "/sim.yaml",
                             "--output", dir + "/bt"])
        #expect(r.status == 65 && r.stderr.contains("sim.yaml:") && r.stderr.contains("rate"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bt/summary.json"))
    }

    /// A checkpoint whose config asks for a 2^40-unit LSTM: a clear error before anything is built (was a trap).
    @Test func craftedCheckpointDimsAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = CLI.root.appendingPathComponent("Tests/ModelsTests/Fixtures/short_term_small.safetensors").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture))
        let n = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try #require(try JSONSerialization.jsonObject(with: bytes[8 ..< 8 + n]) as? [String: Any])
        var metadata = try #require(header["__metadata__"] as? [String: String])
        let configText = try #require(metadata["config"])
        var config = try #require(try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any])
        config["lstm_hidden"] = 1 << 40
        metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: config, options: .sortedKeys), as: UTF8.self)
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header, options: .sortedKeys)
        while json.count % 8 != 0 { json.append(0x20) }
        var crafted = Data((0 ..< 8).map { UInt8((UInt64(json.count) >> (8 * UInt64($0))) & 0xFF) })
        crafted.append(json)
        crafted.append(bytes[(8 + n)...])
        try crafted.write(to: URL(fileURLWithPath: dir + "/ck.safetensors"))
        let input = CLI.root.appendingPathComponent("Tests/ModelsTests/Fixtures/short_term_small_io.safetensors").path
        let r = try CLI.run(["model", "forward", "--checkpoint", dir + "/ck.safetensors", "--input", input,
                             "--output", dir + "/y.safetensors"])
        #expect(r.status == 65 && r.signal == nil && CLI.crashText(r) == nil, "\(r)")
        #expect(r.stderr.contains("lstm_hidden"), "names the field: \(r)")
    }
}
