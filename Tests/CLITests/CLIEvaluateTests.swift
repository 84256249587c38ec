import Foundation
import Testing

/// `aitrader evaluate` through the binary: import the EURUSD sample, train a short_term model briefly, evaluate its
/// best checkpoint (JSON and files), and refuse a file that is not a checkpoint.
@Suite struct CLIEvaluateTests {
    @Test(.enabled(if: CLI.executable != nil, "aitrader executable not built"))
    func trainThenEvaluateWritesTheFilesAndPrintsJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/root"
        let imported = try CLI.run(["data", "import", "--csv", "data/sample/EURUSD_H1.csv", "--symbol", "EURUSD", "--timeframe", "1h",
                                    "--data-root", root])
        #expect(imported.status == 0, "\(imported)")
        let trained = try CLI.run(["train", "--model", "short_term", "--symbol", "EURUSD", "--timeframe", "1h", "--epochs", "1",
                                   "--max-batches", "2", "--threads", "2", "--data-root", root, "--checkpoint-dir", dir + "/ck"],
                                  timeout: 300)
        #expect(trained.status == 0, "\(trained)")
        let out = dir + "/evaluation"
        let r = try CLI.run(["evaluate", "--checkpoint", dir + "/ck/best.safetensors", "--split", "test", "--resamples", "50",
                             "--commission", "0.0001", "--threads", "2", "--data-root", root, "--output", out, "--json"], timeout: 300)
        #expect(r.status == 0, "\(r)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(json?["symbol"] as? String == "EURUSD" && json?["split"] as? String == "test" && json?["commission"] as? Double == 0.0001)
        let metrics = json?["metrics"] as? [String: [String: [String: Double]]]
        let accuracy = metrics?["model"]?["accuracy"]
        #expect(accuracy.map { ($0["low"] ?? 2) <= ($0["value"] ?? -1) && ($0["value"] ?? -1) <= ($0["high"] ?? -2) } == true
                || accuracy?["low"] == accuracy?["value"], "\(String(describing: accuracy))")
        for name in ["evaluation.json", "predictions.csv", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
        }
        let table = try CLI.run(["evaluate", "--checkpoint", dir + "/ck/best.safetensors", "--resamples", "20", "--commission", "0",
                                 "--threads", "2", "--data-root", root, "--output", out], timeout: 300)
        #expect(table.status == 0 && table.stdout.contains("always_up") && table.stdout.contains("logistic"), "\(table)")

        let bad = try CLI.run(["evaluate", "--checkpoint", "data/sample/EURUSD_H1.csv", "--data-root", root], timeout: 60)
        #expect(bad.status != 0 && !bad.stderr.isEmpty && bad.stdout.isEmpty, "\(bad)")
    }
}
