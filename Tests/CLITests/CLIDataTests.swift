import Common
import Foundation
import MarketData
import Testing

/// The data items users reported (wrong timeframes accepted, bad bars accepted by some paths, no way to repair a
/// store, read-only commands creating stores, coarser timeframes not served), each through the binary.
@Suite(.enabled(if: CLI.executable != nil, "the aitrader executable is not built"))
struct CLIDataTests {
    static let goog = CLIInputTests.goog, eurusd = CLIInputTests.eurusd

    static func hourlyRoot() throws -> String {
        let root = try CLI.temporaryDirectory()
        let r = try CLI.run(["data", "import", "--csv", eurusd, "--data-root", root])
        #expect(r.status == 0, "\(r)")
        return root
    }

    /// A file of bars with one low above its high, as a vendor export could have.
    static func badBars(in dir: String) throws -> String {
        let path = dir + "/BAD_D1.csv"
        var lines = try String(contentsOfFile: goog, encoding: .utf8).split(separator: "\n").prefix(60).map(String.init)
        let date = lines[30].prefix { $0 != "," }
        lines[30] = "\(date),100,101,102,100.5,1000"   // low 102 > high 101 on CSV line 31
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func importRefusesATimeframeTheSpacingContradicts() throws {
        let root = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try CLI.run(["data", "import", "--csv", Self.eurusd, "--symbol", "EURUSD", "--timeframe", "1d",
                             "--data-root", root])
        #expect(r.status == 65 && r.stderr.contains("bars are spaced 1h") && r.stderr.contains("not 1d as stated"), "\(r)")
        let list = try CLI.run(["data", "list", "--json", "--data-root", root])
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "nothing stored: \(list)")
        // No timeframe stated and none in the file name: inferred from the spacing.
        let renamed = root + "/eurusd.csv"
        try FileManager.default.copyItem(atPath: Self.eurusd, toPath: renamed)
        let inferred = try CLI.run(["data", "import", "--csv", renamed, "--symbol", "EURUSD", "--data-root", root])
        #expect(inferred.status == 0 && inferred.stdout.hasPrefix("EURUSD 1h: read 5000 bars"), "\(inferred)")
    }

    /// `backtest --data` infers the timeframe (annualisation follows it): GOOG daily bars give CAGR 22.5 %, not 313 %.
    @Test func backtestInfersTheTimeframeAndReportsTheBaseline() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--output", dir, "--quiet"])
        #expect(r.status == 0, "\(r)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as? [String: Any])
        let cagr = try #require(summary["cagr"] as? Double)
        #expect(abs(cagr - 0.2248) < 0.0005, "daily annualisation: CAGR \(cagr)")
        #expect(summary["ruined"] as? Bool == false && summary["rejected_orders"] as? Int == 0, "\(summary)")
        let baseline = try #require(summary["baseline_buy_and_hold"] as? [String: Any])
        #expect((baseline["total_return"] as? Double).map { $0 > 6 } == true, "GOOG 2004-2013 buy-and-hold: \(baseline)")
        let wrong = try CLI.run(["backtest", "--symbol", "GOOG", "--data", Self.goog, "--timeframe", "1h",
                                 "--output", dir + "/x"])
        #expect(wrong.status == 65 && wrong.stderr.contains("not 1h as stated"), "\(wrong)")
    }

    /// One validation for every path that reads bars: import, backtest --data and indicators compute all refuse a
    /// low above its high, naming the file and its CSV line.
    @Test func everyBarReaderRefusesInvalidBars() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = try Self.badBars(in: dir)
        let runs: [[String]] = [
            ["data", "import", "--csv", bad, "--data-root", dir + "/root"],
            ["backtest", "--symbol", "BAD", "--data", bad, "--output", dir + "/bt"],
            ["indicators", "compute", "--input", bad, "--output", dir + "/ind.csv"],
        ]
        for words in runs {
            let r = try CLI.run(words)
            #expect(r.status == 65, "aitrader \(words.joined(separator: " ")): \(r)")
            #expect(r.stderr.contains("BAD_D1.csv:31"), "names the CSV line: \(r)")
        }
        let quarantined = try CLI.run(["data", "import", "--csv", bad, "--quarantine", "--data-root", dir + "/root"])
        #expect(quarantined.status == 0 && quarantined.stdout.contains("quarantined 1"), "\(quarantined)")
    }

    @Test func readOnlyCommandsCreateNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/does/not/exist"
        let list = try CLI.run(["data", "list", "--data-root", missing])
        #expect(list.status == 0, "\(list)")
        for words in [["data", "show", "--symbol", "X", "--timeframe", "1h"], ["data", "validate"],
                      ["backtest", "--symbol", "X", "--output", dir + "/bt"],
                      ["features", "show", "--symbol", "X", "--timeframe", "1h", "--model", "short_term"]] {
            let r = try CLI.run(words + ["--data-root", missing])
            #expect(r.status == 1 && r.stderr.contains("no bar store here"), "aitrader \(words.joined(separator: " ")): \(r)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "a read-only command created \(missing)")
    }

    /// A corrupt dataset can be repaired: `--replace` import over it, `data repair` after its file is deleted, and
    /// `data delete` removes it for good.
    @Test func deleteAndRepairTheStore() throws {
        let root = try Self.hourlyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/store/bars/EURUSD/1h.parquet"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let replaced = try CLI.run(["data", "import", "--csv", Self.eurusd, "--replace", "--data-root", root])
        #expect(replaced.status == 0 && replaced.stdout.contains("the damaged file it replaced is kept at"), "\(replaced)")
        #expect(try CLI.run(["data", "validate", "--data-root", root]).stdout.contains("checksum ok"))

        // The --replace rewrite put the bars in a new base file; delete that one.
        let base = try #require(try ParquetBarStore.datasets(root: root + "/store").first?.path)
        #expect(base != "bars/EURUSD/1h.parquet" && !FileManager.default.fileExists(atPath: file))
        try FileManager.default.removeItem(atPath: root + "/store/" + base)
        let repaired = try CLI.run(["data", "repair", "--data-root", root])
        #expect(repaired.status == 0, "\(repaired)")
        let list = try CLI.run(["data", "list", "--json", "--data-root", root])
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "entry of the missing file dropped: \(list)")

        #expect(try CLI.run(["data", "import", "--csv", Self.eurusd, "--data-root", root]).status == 0)
        let deleted = try CLI.run(["data", "delete", "--symbol", "EURUSD", "--timeframe", "1h", "--data-root", root])
        #expect(deleted.status == 0, "\(deleted)")
        #expect(!FileManager.default.fileExists(atPath: file))
        let again = try CLI.run(["data", "delete", "--symbol", "EURUSD", "--timeframe", "1h", "--data-root", root])
        #expect(again.status == 1 && again.stderr.contains("no dataset EURUSD 1h"), "\(again)")
    }

    /// Appends after the last bar add part files; `data compact` merges them (one dataset or all), `data validate`
    /// checks every file, and a store that is not there or a dataset that is not stored is an error.
    @Test func compactMergesTheAppendedParts() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root"
        let missing = try CLI.run(["data", "compact", "--data-root", root])
        #expect(missing.status == 1 && missing.stderr.contains("no bar store here"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: root))
        let lines = try String(contentsOfFile: Self.eurusd, encoding: .utf8).split(separator: "\n").map(String.init)
        for (k, range) in [1..<4001, 4001..<4501, 4501..<lines.count].enumerated() {
            let csv = dir + "/EURUSD_H1_\(k).csv"
            try ([lines[0]] + lines[range]).joined(separator: "\n").appending("\n").write(toFile: csv, atomically: true,
                                                                                          encoding: .utf8)
            let r = try CLI.run(["data", "import", "--csv", csv, "--symbol", "EURUSD", "--data-root", root])
            #expect(r.status == 0, "\(r)")
        }
        let before = try #require(try ParquetBarStore.datasets(root: root + "/store").first)
        #expect(before.rows == 5000 && before.parts.count == 2, "\(before)")
        #expect(try CLI.run(["data", "validate", "--data-root", root]).stdout.contains("5000 bars, checksum ok"))
        let none = try CLI.run(["data", "compact", "--symbol", "GBPUSD", "--data-root", root])
        #expect(none.status == 1 && none.stderr.contains("no stored dataset matches GBPUSD"), "\(none)")
        let compacted = try CLI.run(["data", "compact", "--symbol", "EURUSD", "--timeframe", "1h", "--data-root", root])
        #expect(compacted.status == 0 && compacted.stdout.contains("compacted EURUSD 1h: base and 2 part file(s) merged"),
                "\(compacted)")
        let after = try #require(try ParquetBarStore.datasets(root: root + "/store").first)
        #expect(after.rows == 5000 && after.parts.isEmpty && after.firstTimestamp == before.firstTimestamp)
        let again = try CLI.run(["data", "compact", "--data-root", root])
        #expect(again.status == 0 && again.stdout.contains("nothing to compact"), "\(again)")
        let shown = try CLI.run(["data", "show", "--symbol", "EURUSD", "--timeframe", "1h", "--rows", "all", "--data-root", root])
        #expect(shown.stdout.split(separator: "\n").count == 5001, "header and 5000 bars")
        #expect(try CLI.run(["data", "validate", "--data-root", root]).stdout.contains("5000 bars, checksum ok"))
    }

    /// Commands that need a coarser timeframe resample it from the finer stored one.
    @Test func coarserTimeframesAreResampled() throws {
        let root = try Self.hourlyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let features = try CLI.run(["features", "compute", "--symbol", "EURUSD", "--profile", "trader",
                                    "--model", "medium_term", "--data-root", root])
        #expect(features.status == 0 && features.stdout.contains("EURUSD 4h medium_term"), "\(features)")
        let bt = try CLI.run(["backtest", "--symbol", "EURUSD", "--timeframe", "1d", "--output", root + "/bt",
                              "--data-root", root])
        #expect(bt.status == 0 && bt.stderr.contains("resampled from the stored 1h bars"), "\(bt)")
    }

    @Test func bareMultiOutputIndicatorsEmitEveryColumn() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["indicators", "compute", "--input", Self.goog, "--output", dir + "/m.csv",
                             "--indicators", "macd,bbands"])
        #expect(r.status == 0, "\(r)")
        let header = try String(contentsOfFile: dir + "/m.csv", encoding: .utf8).prefix { $0 != "\n" }
        for column in ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9", "bbands_upper_20_2"] {
            #expect(header.contains(column), "\(header)")
        }
    }

    /// Conflicting bars name the flag that overrides them, not an internal case name.
    @Test func errorsSpeakTheUsersTerms() throws {
        let root = try Self.hourlyRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let changed = root + "/EURUSD_H1.csv"
        let text = try String(contentsOfFile: Self.eurusd, encoding: .utf8)
        try text.replacingOccurrences(of: "1.23426,4065", with: "1.23427,4065").write(toFile: changed, atomically: true,
                                                                                        encoding: .utf8)
        let r = try CLI.run(["data", "import", "--csv", changed, "--data-root", root])
        #expect(r.status == 65 && r.stderr.contains("--replace"), "\(r)")
        for term in ["overlapConflict", ".replace", "NSCocoaErrorDomain", "StorageError", "Kind"] {
            #expect(!r.stderr.contains(term), "\(term) in \(r.stderr)")
        }
        let missing = try CLI.run(["data", "import", "--csv", root + "/none_H1.csv", "--data-root", root])
        #expect(missing.status != 0 && !missing.stderr.contains("NSCocoaErrorDomain"), "\(missing)")
    }
}
