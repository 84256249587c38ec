import Foundation
import Testing

/// `aitrader tune` and `aitrader train --walk-forward` through the binary on the EURUSD sample (medium_term, the
/// fastest model to train; one short epoch per trial or fold): the best config loads back into `train`, and the
/// walk-forward writes one checkpoint folder per fold and the pooled out-of-sample figures.
@Suite(.serialized, .enabled(if: CLI.executable != nil, "the aitrader executable is not built"))
struct CLITuneAndWalkForwardTests {
    static func importedRoot(_ dir: String) throws -> String {
        let root = dir + "/root"
        let r = try CLI.run(["data", "import", "--csv", "data/sample/EURUSD_H1.csv", "--data-root", root])
        #expect(r.status == 0, "\(r)")
        return root
    }

    @Test func tuneWritesABestConfigThatTrains() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = try Self.importedRoot(dir)
        let best = dir + "/best.yaml"
        let r = try CLI.run(["tune", "--model", "medium_term", "--search-space", "configs/training/search_space.yaml",
                             "--trials", "2", "--seed", "3", "--symbol", "EURUSD", "--timeframe", "1h", "--epochs", "1",
                             "--max-batches", "2", "--threads", "2", "--data-root", root, "--checkpoint-dir", dir + "/trials",
                             "--output", best], timeout: 600)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("trial 1") || r.stdout.contains("trial 0"), "every trial printed: \(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: best), "\(r)")
        // The best config is a training config `train --config` accepts.
        let trained = try CLI.run(["train", "--model", "medium_term", "--config", best, "--epochs", "1", "--max-batches", "1",
                                   "--threads", "2", "--data-root", root, "--checkpoint-dir", dir + "/again"], timeout: 600)
        #expect(trained.status == 0, "\(trained)")
        let missing = try CLI.run(["tune", "--model", "medium_term", "--search-space", dir + "/none.yaml", "--trials", "1",
                                   "--data-root", root])
        #expect(missing.status != 0 && missing.stderr.contains("none.yaml"), "\(missing)")
    }

    @Test func walkForwardTrainsEachFoldAndPoolsTheTestBlocks() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = try Self.importedRoot(dir)
        let r = try CLI.run(["train", "--model", "medium_term", "--symbol", "EURUSD", "--timeframe", "1h", "--walk-forward", "2",
                             "--epochs", "1", "--max-batches", "2", "--threads", "2", "--data-root", root,
                             "--checkpoint-dir", dir + "/wf"], timeout: 600)
        #expect(r.status == 0, "\(r)")
        for k in 0 ..< 2 { #expect(FileManager.default.fileExists(atPath: dir + "/wf/fold-\(k)/last.safetensors"), "fold \(k)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/wf/walk_forward.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["folds"] as? Int == 2 && (json["per_fold"] as? [Any])?.count == 2, "\(json.keys)")
        #expect(json["pooled"] != nil, "\(json.keys)")
        #expect(r.stdout.contains("always_up"), "the pooled table beside the baselines: \(r.stdout)")
        let one = try CLI.run(["train", "--model", "medium_term", "--walk-forward", "1", "--data-root", root])
        #expect(one.status == 64 || one.status == 65, "K = 1 is refused: \(one)")
        let all = try CLI.run(["train", "--model", "all", "--walk-forward", "2", "--data-root", root])
        #expect(all.status != 0, "walk-forward takes one model: \(all)")
    }
}
