import Common
import Foundation
import Testing

/// What every command promises, generated from the commands the binary lists: help at every level exits 0,
/// usage errors are one line and a hint with exit 64, and no option list — however wrong — crashes the binary or
/// ends outside {0, 1, 64, 65}.
@Suite(.enabled(if: CLI.executable != nil, "the aitrader executable is not built"))
struct CLIContractTests {
    @Test func everyCommandAndGroupHasHelp() throws {
        let paths = try CLI.commandPaths()
        #expect(paths.count >= 15, "commands listed by `aitrader help`: \(paths)")
        for top in [[String](), ["--help"], ["-h"], ["help"]] {
            let r = try CLI.run(top)
            #expect(r.status == 0 && r.stdout.contains("Commands:"), "aitrader \(top): \(r)")
        }
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("aitrader "), "\(version)")
        for path in paths {
            let name = path.joined(separator: " ")
            for words in [path + ["--help"], path + ["-h"], ["help"] + path] {
                let r = try CLI.run(words)
                #expect(r.status == 0, "aitrader \(words.joined(separator: " ")): \(r)")
                #expect(r.stdout.hasPrefix("Usage: aitrader \(name)"), "aitrader \(words.joined(separator: " ")): \(r)")
                #expect(r.stdout.contains("--threads N") && r.stdout.contains("--device"), "global options in \(name)")
            }
        }
        let groups = Set(paths.filter { $0.count > 1 }.map { Array($0.dropLast()) })
        #expect(groups.contains(["data"]) && groups.contains(["features"]))
        for group in groups {
            for words in [group, group + ["--help"], ["help"] + group] {
                let r = try CLI.run(words)
                #expect(r.status == 0 && r.stdout.contains("Subcommands:"), "aitrader \(words.joined(separator: " ")): \(r)")
            }
        }
    }

    @Test func usageErrorsAreOneLineAndAHint() throws {
        let unused = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-unused-\(UUID().uuidString)").path
        let cases: [([String], String)] = [
            (["nope"], "unknown command 'nope'"),
            (["data", "nope"], "'nope' is not a subcommand of 'data'"),
            (["help", "nope"], "no command 'nope'"),
            (["backtest", "--symbl", "X"], "unknown option --symbl (did you mean --symbol?)"),
            (["backtest", "--output", unused], "missing required option --symbol"),
            (["data", "show", "--symbol", "X", "--timeframe", "7q"], "--timeframe"),
            (["indicators", "compute", "--input", "a.csv", "--output", "b.txt"], "--output must end in .csv or .parquet"),
            (["backtest", "--symbol", "X", "--output", unused, "--fast", "30", "--slow", "20"], "--fast must be smaller"),
            (["data", "list", "stray"], "unexpected argument 'stray'"),
        ]
        for (words, expected) in cases {
            let r = try CLI.run(words)
            #expect(r.status == 64, "aitrader \(words.joined(separator: " ")): \(r)")
            #expect(r.stderr.contains(expected), "aitrader \(words.joined(separator: " ")): \(r)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 2 && lines[1].hasPrefix("Run 'aitrader"), "one line and a hint, not the usage: \(r)")
            #expect(r.stdout.isEmpty, "nothing on stdout: \(r)")
        }
    }

    /// Random option lists for every command that only reads and writes local files (not `data fetch` / `data
    /// update`, which call vendors, nor `bench`, whose valid runs take minutes; `train` runs on the empty scratch data
    /// root, so it cannot train for long): values drawn from
    /// each option's kind plus hostile ones (huge, negative, NaN, escape codes, missing files, directories).
    /// Hundreds of runs share this test process: one that left its output files open would leak two descriptors
    /// each, and past about 1,350 open descriptors Foundation's own Process.run reads beyond its /proc/self/fd
    /// buffer and crashes the whole suite (seen in CI as a SIGSEGV in memcpy).
    @Test func aRunLeavesNoDescriptorOpenInTheTestProcess() throws {
        let runs = try (0 ..< 3).map { _ in try CLI.run(["help"]) }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let targets = open.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0) }
        for run in runs {
            #expect(run.status == 0, "\(run)")
            #expect(run.outputFiles.count == 2)
            for file in run.outputFiles {
                #expect(!targets.contains { $0.hasPrefix(file) }, "\(file) is still open")
            }
        }
    }

    @Test func randomOptionListsNeverCrash() throws {
        let seed = SplitMix64.testSeed()
        var rng = SplitMix64(seed: seed)
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let garbage = scratch + "/garbage.csv"
        try Data("time,open\n2024-01-01,\u{1B}[31mred\n\0\0\n".utf8).write(to: URL(fileURLWithPath: garbage))
        let skipped: Set<String> = ["data fetch", "data update", "bench"]
        let paths = try CLI.commandPaths().filter { !skipped.contains($0.joined(separator: " ")) }
        let rounds = ProcessInfo.processInfo.environment["AITRADER_FUZZ_ROUNDS"].flatMap { Int($0) } ?? 12
        for path in paths {
            let declared = try CLI.declaredOptions(path)
            for round in 0 ..< rounds {
                var words = path
                let count = Int.random(in: 0 ... min(6, declared.count), using: &rng)
                for _ in 0 ..< count {
                    let option = declared.randomElement(using: &rng)!
                    if option.name == "help" { continue }
                    words.append("--" + option.name)
                    if !option.value.isEmpty {
                        words.append(Self.value(for: option.value, scratch: scratch, garbage: garbage, using: &rng))
                    }
                }
                if Int.random(in: 0 ..< 8, using: &rng) == 0 { words.append("--" + Self.noise(using: &rng)) }
                let r = try CLI.run(words, environment: ["AITRADER_DATA_ROOT": scratch + "/root"], timeout: 60)
                let replay = "AITRADER_TEST_SEED=\(seed) round \(round): aitrader \(words.joined(separator: " "))"
                #expect(!r.timedOut, "\(replay) ran past 60 s")
                #expect(r.signal == nil, "\(replay) died of a signal: \(r)")
                #expect([0, 1, 64, 65].contains(r.status), "\(replay): exit \(r.status): \(r)")
                #expect(CLI.crashText(r) == nil, "\(replay): \(r)")
                #expect(!r.stderr.contains("\u{1B}["), "\(replay): an escape sequence reached the terminal: \(r)")
            }
        }
    }

    static func value(for kind: String, scratch: String, garbage: String, using rng: inout SplitMix64) -> String {
        let numbers = ["0", "-1", "1", "2", "20", "0.5", "0.002", "1e308", "-1e308", "nan", "inf", "-inf", "1e-320",
                       "99999999999999999999", "9223372036854775807", "abc", "", "-0"]
        func pick(_ choices: [String]) -> String { choices[Int.random(in: 0 ..< choices.count, using: &rng)] }
        switch kind {
        case "N", "MS", "N|all":
            return pick(numbers + ["all", "7", "1000000"])
        case "X", "AMOUNT", "RATE", "BPS":
            return pick(numbers)
        case "TF":
            return pick(["1h", "1d", "4h", "5m", "1w", "0h", "-1h", "99999999d", "1x", "abc", ""])
        case "TIME":
            return pick(["2017-06-01", "2017-06-01T12:00:00Z", "2024-01-31 12:00", "now", "0", "-1", "99999-01-01",
                         "1e30", "9223372036854775807", "2017-13-45", "abc", ""])
        case "SYMBOL", "SYMBOL[,SYMBOL...]":
            return pick(["EURUSD", "GOOG", "NOPE", "EURUSD,GOOG", "EURUSD,EURUSD", "\u{1B}[31mX", "a/../b", ","])
        case "A,B,...":
            return pick(["rsi_14", "macd", "bbands_20_2", "rsi_-1", "rsi_99999999", "nope", "sma_0", ",", "rsi,rsi"])
        case "TEXT", "NAME", "HH:MM", "ZONE", "D", "FMT", "ROLE=COL,...":
            return pick(["x", "", "25:99", "UTC", "NY+7", "%d/%m/%Y", "time=0,close=9", "moderate", "\u{1B}]0;t\u{07}",
                         String(repeating: "z", count: 300)])
        default:
            if kind.contains("|") { return pick(kind.split(separator: "|").map(String.init) + ["bogus"]) }
            // a path: files and folders in the scratch directory only (the command runs in the repository root)
            return pick([scratch + "/out.csv", scratch + "/out.parquet", scratch + "/dir", scratch + "/missing.csv",
                         scratch, garbage, "/dev/null", scratch + "/y.safetensors",
                         CLI.root.appendingPathComponent("data/sample/GOOG_D1.csv").path])
        }
    }

    static func noise(using rng: inout SplitMix64) -> String {
        String((0 ..< Int.random(in: 1 ... 12, using: &rng)).map { _ in "abcdefghijklmnopqrstuvwxyz-=_"
            .randomElement(using: &rng)! })
    }
}
