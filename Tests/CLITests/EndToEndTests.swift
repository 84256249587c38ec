import Common
import Foundation
import MarketData
import Testing

/// The `aitrader` binary end to end, as a user runs it: import the bundled sample into a fresh data root,
/// export a resampled range as Parquet, compute a model's features from the store, backtest from the store,
/// compute indicators on a CSV; and bad input gives a located error with a non-zero exit status.
@Suite struct EndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `aitrader` executable built beside this test bundle (`CLI.executable`).
    static func executable() -> String? { CLI.executable }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `aitrader` in the repository root (configs/ are found there) with `arguments`.
    static func aitrader(_ arguments: [String]) throws -> Result {
        var environment = ProcessInfo.processInfo.environment
        environment["AITRADER_DATA_ROOT"] = nil
        let r = try Subprocess.run(executable()!, arguments, environment: environment, directory: root)
        return Result(status: r.status, stdout: r.output, stderr: r.errorOutput)
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func importResampleFeaturesAndBacktestFromTheStore() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sample = Self.root.appendingPathComponent("data/sample/EURUSD_H1.csv").path

        let imported = try Self.aitrader(["data", "import", "--csv", sample, "--symbol", "EURUSD", "--timeframe", "1h",
                                          "--data-root", dir])
        #expect(imported.status == 0, "\(imported.stderr)")

        // data show --resample 1d --output x.parquet: the daily bars, readable as Parquet.
        let daily = dir + "/eurusd_1d.parquet"
        let shown = try Self.aitrader(["data", "show", "--symbol", "EURUSD", "--timeframe", "1h", "--resample", "1d",
                                       "--output", daily, "--data-root", dir])
        #expect(shown.status == 0, "\(shown.stderr)")
        let bars = try BarSeries.readParquet(path: daily, symbol: "EURUSD", timeframe: .d1)
        #expect(bars.count == 251)
        let hourly = try CSVBarReader().read(path: sample, symbol: "EURUSD", timeframe: .h1)
        let firstDay = hourly.slice(from: bars.timestamps[0], to: bars.timestamps[1])
        #expect(bars.open[0] == firstDay.open[0])
        #expect(bars.high[0] == firstDay.high.max())
        #expect(bars.close[0] == firstDay.close[firstDay.count - 1])

        // features compute reads the same store.
        let features = try Self.aitrader(["features", "compute", "--symbol", "EURUSD", "--timeframe", "1h",
                                          "--model", "short_term", "--data-root", dir])
        #expect(features.status == 0, "\(features.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/features/EURUSD/1h/short_term.parquet"))

        // backtest from the store equals the backtesting.py parity figure for the same bars.
        let output = dir + "/bt"
        let backtest = try Self.aitrader(["backtest", "--symbol", "EURUSD", "--timeframe", "1h", "--strategy", "sma_cross",
                                          "--fast", "10", "--slow", "20", "--cash", "10000", "--commission", "0.002",
                                          "--data-root", dir, "--output", output])
        #expect(backtest.status == 0, "\(backtest.stderr)")
        let summary = try JSONDecoder().decode(Summary.self,
                                               from: Data(contentsOf: URL(fileURLWithPath: output + "/summary.json")))
        #expect(summary.final_equity == 3526.9179593400117)
        #expect(summary.num_trades == 262)
    }

    struct Summary: Decodable {
        var final_equity: Double
        var num_trades: Int
    }

    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func indicatorsComputeWritesNamedColumnsWithWarmUp() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/goog_ind.csv"
        let result = try Self.aitrader(["indicators", "compute", "--input",
                                        Self.root.appendingPathComponent("data/sample/GOOG_D1.csv").path,
                                        "--output", out, "--indicators", "sma_20,rsi_14,macd_12_26_9,macd_signal_12_26_9"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "timestamp,sma_20,rsi_14,macd_12_26_9,macd_signal_12_26_9")
        #expect(lines.count == 2149)
        #expect(lines[1].contains("NaN") || lines[1].contains("nan"))
    }

    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func badInputIsALocatedErrorAndStoresNothing() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/bad.csv"
        try ",Open,High,Low,Close,Volume\n2017-01-02 00:00:00,1,2,0.5,1.5,10\n2017-01-02 01:00:00,1,oops,0.5,1.5,10\n"
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let result = try Self.aitrader(["data", "import", "--csv", csv, "--symbol", "X", "--timeframe", "1h",
                                        "--data-root", dir])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.csv:3"), "\(result.stderr)")
        #expect(result.stderr.contains("High"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/store/bars/X/1h.parquet"))

        let usage = try Self.aitrader(["backtest", "--symbol", "EURUSD", "--no-such-option", "1"])
        #expect(usage.status == 64)
    }

    /// data list (text and JSON), data show's head/tail view, data validate (checksums, OHLC rules, gaps against
    /// the forex calendar), and a corrupted Parquet file caught by its checksum.
    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func listShowAndValidateTheStoreAndCatchACorruptFile() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let empty = try Self.aitrader(["data", "list", "--data-root", dir])
        #expect(empty.status == 0 && empty.stdout.hasPrefix("no datasets in "), "\(empty.stdout)")
        let sample = Self.root.appendingPathComponent("data/sample/EURUSD_H1.csv").path
        let imported = try Self.aitrader(["data", "import", "--csv", sample, "--symbol", "EURUSD", "--timeframe", "1h",
                                          "--data-root", dir])
        #expect(imported.status == 0, "\(imported.stderr)")

        let json = try Self.aitrader(["data", "list", "--json", "--data-root", dir])
        #expect(json.status == 0, "\(json.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["symbol"] as? String == "EURUSD" && list.first?["timeframe"] as? String == "1h")
        #expect(list.first?["rows"] as? Int == 5000)
        #expect(list.first?["first"] as? String == "2017-04-19T09:00:00Z" && list.first?["last"] as? String == "2018-02-07T15:00:00Z")
        let text = try Self.aitrader(["data", "list", "--data-root", dir])
        #expect(text.stdout.split(separator: "\n").last?.split(separator: " ").prefix(3) == ["EURUSD", "1h", "5000"],
                "\(text.stdout)")

        // --rows 4: the first two and the last two bars of the file, and how many were left out.
        let shown = try Self.aitrader(["data", "show", "--symbol", "EURUSD", "--timeframe", "1h", "--rows", "4",
                                       "--data-root", dir])
        #expect(shown.status == 0, "\(shown.stderr)")
        let rows = shown.stdout.split(separator: "\n").map(String.init)
        let csv = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(rows.count == 6 && rows[0] == "timestamp,open,high,low,close,volume" && rows[3] == "... 4996 more rows ...",
                "\(rows)")
        for (shownRow, csvRow) in [(1, 1), (2, 2), (4, csv.count - 2), (5, csv.count - 1)] where shownRow < rows.count {
            #expect(rows[shownRow].split(separator: ",")[0] == csv[csvRow].split(separator: ",")[0])
            #expect(Double(rows[shownRow].split(separator: ",")[4]) == Double(csv[csvRow].split(separator: ",")[4]))
        }

        let validated = try Self.aitrader(["data", "validate", "--symbol", "EURUSD", "--timeframe", "1h", "--calendar", "forex",
                                           "--data-root", dir])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        #expect(validated.stdout.hasPrefix("EURUSD 1h: 5000 bars, checksum ok, bars ok"), "\(validated.stdout)")
        // The sample has no bars over Christmas and New Year: two gaps of a day, which --fail-on-gaps turns into a failure.
        #expect(validated.stdout.contains("2 gaps"), "\(validated.stdout)")
        #expect(validated.stdout.contains("gap 2017-12-24T22:00:00Z .. 2017-12-25T22:00:00Z (24 bars)"), "\(validated.stdout)")
        let strict = try Self.aitrader(["data", "validate", "--symbol", "EURUSD", "--timeframe", "1h", "--calendar", "forex",
                                        "--fail-on-gaps", "--data-root", dir])
        #expect(strict.status != 0 && strict.stderr.contains("validation failed"), "\(strict.stderr)")

        // One flipped byte in the middle of the Parquet file: the checksum recorded at import catches it.
        let file = dir + "/store/bars/EURUSD/1h.parquet"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let corrupt = try Self.aitrader(["data", "validate", "--data-root", dir])
        #expect(corrupt.status != 0)
        #expect(corrupt.stdout.contains("EURUSD 1h: 5000 bars, CHECKSUM FAILED"), "\(corrupt.stdout)")
        let none = try Self.aitrader(["data", "validate", "--symbol", "GBPUSD", "--data-root", dir])
        #expect(none.status != 0 && none.stderr.contains("no stored dataset matches"), "\(none.stderr)")
    }

    /// data fetch --source csv stores [start, end] only (--end includes its day); data update continues from the last
    /// stored bar to the end of the file, and a second update adds nothing.
    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func fetchARangeThenUpdateWithoutDuplicates() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sample = Self.root.appendingPathComponent("data/sample/GOOG_D1.csv").path
        let days = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { String($0.prefix(10)) }
        let january = days.filter { $0.hasPrefix("2010-01") }.count
        let fromJanuary = days.filter { $0 >= "2010-01-01" }.count
        let fetched = try Self.aitrader(["data", "fetch", "--source", "csv", "--csv", sample, "--symbol", "GOOG",
                                         "--timeframe", "1d", "--start", "2010-01-01", "--end", "2010-01-31", "--data-root", dir])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("GOOG 1d: fetched \(january), added \(january)"), "\(fetched.stdout)")

        let updated = try Self.aitrader(["data", "update", "--symbol", "GOOG", "--timeframe", "1d", "--data-root", dir])
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(updated.stdout.contains("added \(fromJanuary - january)"), "\(updated.stdout)")
        let list = try Self.aitrader(["data", "list", "--json", "--data-root", dir])
        let entry = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(entry["rows"] as? Int == fromJanuary)
        #expect(entry["first"] as? String == "2010-01-04T00:00:00Z" && entry["last"] as? String == "2013-03-01T00:00:00Z")

        let again = try Self.aitrader(["data", "update", "--symbol", "GOOG", "--timeframe", "1d", "--data-root", dir])
        #expect(again.status == 0 && again.stdout.contains("added 0"), "\(again.stdout)\(again.stderr)")
        let missing = try Self.aitrader(["data", "fetch", "--source", "csv", "--csv", sample, "--symbol", "GOOG",
                                         "--timeframe", "1d", "--data-root", dir])
        #expect(missing.status == 64 && missing.stderr.contains("--start"), "\(missing.stderr)")
    }

    @Test(.enabled(if: executable() != nil, "aitrader executable not built"))
    func benchFilterSelectsOneBatchSize() throws {
        let result = try Self.aitrader(["bench", "--suite", "models", "--quick", "--json",
                                        "--filter", "medium_term_infer B=1"])
        #expect(result.status == 0, "\(result.stderr)")
        let results = result.stdout.split(separator: "\n").filter { $0.contains("\"name\"") }
        #expect(results.count == 1, "\(result.stdout)")
        #expect(results.first?.contains("\"medium_term_infer\", \"shape\": {\"B\": 1,") == true, "\(result.stdout)")
    }
}
