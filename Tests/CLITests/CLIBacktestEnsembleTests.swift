import Foundation
import Testing

/// `aitrader backtest --strategy ensemble` through the binary: train the three models for one batch on the EURUSD
/// sample, backtest the robot on about 150 hourly bars with the bars before --start as history, check the report
/// (ensemble.json, the report.html section, the printed comparison), and the refusals (exit 64 for usage, 65 for
/// too little history).
@Suite struct CLIBacktestEnsembleTests {
    @Test(.enabled(if: CLI.executable != nil, "aitrader executable not built"))
    func trainThenBacktestTheEnsemble() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root", ck = dir + "/ck", out = dir + "/out"
        let imported = try CLI.run(["data", "import", "--csv", "data/sample/EURUSD_H1.csv", "--symbol", "EURUSD", "--timeframe", "1h",
                                    "--data-root", root])
        #expect(imported.status == 0, "\(imported)")
        let trained = try CLI.run(["train", "--model", "all", "--symbol", "EURUSD", "--timeframe", "1h", "--epochs", "1",
                                   "--max-batches", "1", "--threads", "2", "--quiet", "--data-root", root, "--checkpoint-dir", ck],
                                  timeout: 300)
        #expect(trained.status == 0, "\(trained)")

        let common = ["backtest", "--strategy", "ensemble", "--symbol", "EURUSD", "--profile", "trader", "--risk-profile", "moderate",
                      "--threads", "2", "--data-root", root]
        let run = try CLI.run(common + ["--checkpoints", ck, "--start", "2018-01-31", "--end", "2018-02-07", "--output", out],
                              timeout: 300)
        #expect(run.status == 0, "\(run)")
        for words in ["Ensemble vs baselines", "buy_and_hold", "sma_cross_10_20", "Calibration of p(up)", "ECE", "Signals: open",
                      "Risk rejections:", "Breaker events:", "History Bars"] {
            #expect(run.stdout.contains(words), "\(words)")
        }
        for file in ["summary.json", "trades.csv", "equity.csv", "orders.csv", "report.txt", "report.html", "ensemble.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/ensemble.json")))
            as? [String: Any])
        let traded = try #require(json["traded_bars"] as? Int)
        #expect((100...200).contains(traded), "\(traded) traded bars")
        #expect(json["start"] as? String == "2018-01-31T00:00:00Z" && json["end"] as? String == "2018-02-07T15:00:00Z"
                && json["first_decision"] as? String == "2018-01-31T01:00:00Z", "\(json["start"] ?? "")")
        let calibration = try #require(json["calibration"] as? [String: Any])
        let bins = try #require(calibration["bins"] as? [[String: Any]])
        #expect(bins.count == 10 && bins.reduce(0) { $0 + ($1["count"] as? Int ?? 0) } == calibration["samples"] as? Int)
        #expect(calibration["samples"] as? Int == traded - 1)   // the last decision has no next bar yet
        let weights = try #require(json["model_weights"] as? [String: Any])
        #expect((weights["times"] as? [Any])?.count == traded && (weights["long_term"] as? [Any])?.count == traded)
        let comparison = try #require(json["comparison"] as? [[String: Any]])
        #expect(comparison.map { $0["strategy"] as? String } == ["ensemble", "buy_and_hold", "sma_cross_10_20"])
        for key in ["signals_by_action", "risk_rejections_by_rule", "breaker_events", "history_bars", "predictions"] {
            #expect(json[key] != nil, "\(key)")
        }
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        for words in ["Calibration on the traded period", "Effective model weights over time", "Breaker events", "Ensemble vs baselines"] {
            #expect(html.contains(words), "\(words)")
        }
        let summary = try String(contentsOfFile: out + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"strategy\": \"ensemble_robot\"") && summary.contains("\"start\": \"2018-01-31"), "\(summary.prefix(600))")

        func refused(_ arguments: [String], _ status: Int32, _ words: [String]) throws {
            let r = try CLI.run(common + ["--output", out + "-x"] + arguments, timeout: 120)
            #expect(r.status == status && words.allSatisfy { r.stderr.contains($0) }, "\(arguments): \(r)")
        }
        try refused([], 64, ["--checkpoints"])
        try refused(["--checkpoints", ck, "--data", "data/sample/EURUSD_H1.csv"], 64, ["--data", "store"])
        try refused(["--checkpoints", ck, "--timeframe", "4h"], 64, ["1h"])
        try refused(["--checkpoints", ck, "--start", "2017-04-25"], 65, ["close before", "needs 271"])
        let sma = try CLI.run(["backtest", "--symbol", "EURUSD", "--checkpoints", ck, "--data-root", root, "--output", out + "-y"])
        #expect(sma.status == 64 && sma.stderr.contains("--strategy ensemble"), "\(sma)")
    }
}
