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
