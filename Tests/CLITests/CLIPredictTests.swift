import Foundation
import Testing

/// `aitrader predict` through the binary: train the three models for one batch, predict two symbols as a table and
/// as JSON, and refuse stale data, unknown symbols, too little history and missing checkpoints with exit 65.
@Suite struct CLIPredictTests {
    @Test(.enabled(if: CLI.executable != nil, "aitrader executable not built"))
    func trainThenPredict() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root", ck = dir + "/ck"
        for symbol in ["EURUSD", "EURUSD2"] {
            let imported = try CLI.run(["data", "import", "--csv", "data/sample/EURUSD_H1.csv", "--symbol", symbol, "--timeframe", "1h",
                                        "--data-root", root])
            #expect(imported.status == 0, "\(imported)")
        }
        let trained = try CLI.run(["train", "--model", "all", "--symbol", "EURUSD", "--timeframe", "1h", "--epochs", "1",
                                   "--max-batches", "1", "--threads", "2", "--quiet", "--data-root", root, "--checkpoint-dir", ck],
                                  timeout: 300)
        #expect(trained.status == 0, "\(trained)")

        let json = try CLI.run(["predict", "--symbol", "EURUSD,EURUSD2", "--checkpoints", ck, "--as-of", "2018-02-07T12:30:00Z",
                                "--json", "--threads", "2", "--data-root", root], timeout: 120)
        #expect(json.status == 0, "\(json)")
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(array?.map { $0["symbol"] as? String } == ["EURUSD", "EURUSD2"])
        let first = try #require(array?.first)
        #expect(first["time"] as? Int64 == 1_518_004_800_000 && first["data_age"] as? Int == 30 * 60_000, "\(first)")
        for key in ["p_up", "alpha", "beta", "confidence", "direction", "agreement", "disagreement_penalty", "confidence_threshold",
                    "regime", "volatility_percentile", "votes", "weight_scale"] {
            #expect(first[key] != nil, "\(key)")
        }
        let votes = try #require(first["votes"] as? [[String: Any]])
        #expect(votes.map { $0["model_type"] as? String } == ["short_term", "medium_term", "long_term"])
        for key in ["alpha", "beta", "p_up_raw", "p_up", "confidence", "base_weight", "weight", "feature_time", "timeframe"] {
            #expect(votes.allSatisfy { $0[key] != nil }, "\(key)")
        }
        let weights = votes.compactMap { $0["weight"] as? Double }
        #expect(abs(weights.reduce(0, +) - 1) < 1e-9)

        let table = try CLI.run(["predict", "--symbol", "EURUSD", "--checkpoints", ck, "--as-of", "2018-02-07T12:00:00Z",
                                 "--threads", "2", "--data-root", root], timeout: 120)
        #expect(table.status == 0 && table.stdout.contains("== EURUSD at 2018-02-07T12:00:00Z") && table.stdout.contains("medium_term"),
                "\(table)")

        func refused(_ arguments: [String], _ words: [String]) throws {
            let r = try CLI.run(["predict", "--checkpoints", ck, "--threads", "2", "--data-root", root] + arguments, timeout: 120)
            #expect(r.status == 65 && r.stdout.isEmpty && words.allSatisfy { r.stderr.contains($0) }, "\(arguments): \(r)")
        }
        try refused(["--symbol", "EURUSD"], ["max_data_age_hours", "EURUSD"])   // the sample ends in 2018
        try refused(["--symbol", "GBPUSD", "--as-of", "2018-02-07"], ["GBPUSD"])
        try refused(["--symbol", "EURUSD", "--as-of", "2017-04-20"], ["EURUSD", "needs"])
        let missing = try CLI.run(["predict", "--symbol", "EURUSD", "--checkpoints", dir + "/none", "--data-root", root])
        #expect(missing.status == 65 && missing.stderr.contains(dir + "/none"), "\(missing)")
        let usage = try CLI.run(["predict", "--checkpoints", ck])
        #expect(usage.status == 64 && usage.stderr.contains("--symbol"), "\(usage)")
        let help = try CLI.run(["help", "predict"])
        #expect(help.status == 0 && help.stdout.contains("--as-of TIME") && help.stdout.contains("--checkpoints DIR"), "\(help)")
    }
}
