import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Experiment tracking through the binary: `aitrader train` records every run (also when the MLflow server it was
/// given is not there: one warning, the local store has the run), `aitrader runs list / show / compare` read it.
@Suite(.serialized, .enabled(if: CLI.executable != nil, "the aitrader executable is not built"))
struct CLIRunsTests {
    /// A port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func closedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func trainTracksEveryRunAndRunsReadsThem() throws {
        let root = try CLIDataTests.hourlyRoot()
        // Nothing tracked yet: an empty list, and nothing created.
        let empty = try CLI.run(["runs", "list", "--json", "--data-root", root])
        #expect(empty.status == 0 && (Self.json(empty.stdout) as? [Any])?.isEmpty == true, "\(empty)")
        #expect(!FileManager.default.fileExists(atPath: root + "/runs"))

        let train = ["train", "--model", "short_term", "--symbol", "EURUSD", "--timeframe", "1h", "--max-batches", "2",
                     "--data-root", root]
        let first = try CLI.run(train + ["--epochs", "2", "--checkpoint-dir", root + "/ck1",
                                         "--mlflow-uri", "http://127.0.0.1:\(Self.closedPort())"], timeout: 300)
        #expect(first.status == 0, "\(first)")
        let warnings = first.stderr.split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1 && warnings[0].contains("the run is tracked in the local store only"), "\(first.stderr)")
        let second = try CLI.run(train + ["--epochs", "1", "--seed", "7", "--checkpoint-dir", root + "/ck2",
                                          "--experiment", "sweep"], timeout: 300)
        #expect(second.status == 0 && !second.stderr.contains("warning"), "\(second)")
        // A run that fails (nothing to resume from) is tracked as FAILED.
        let failing = try CLI.run(train + ["--epochs", "1", "--resume", root + "/none.safetensors", "--experiment", "sweep"], timeout: 300)
        #expect(failing.status != 0, "\(failing)")

        let list = try CLI.run(["runs", "list", "--json", "--data-root", root])
        let runs = try #require(Self.json(list.stdout) as? [[String: Any]], "\(list)")
        #expect(runs.count == 3)
        #expect(runs.map { $0["status"] as? String } == ["FAILED", "FINISHED", "FINISHED"])
        #expect(runs.map { $0["experiment"] as? String } == ["sweep", "sweep", "train-short_term"])
        let ids = runs.compactMap { $0["id"] as? String }
        let oldest = runs[2]
        #expect((oldest["params"] as? [String: String])?["epochs"] == "2")
        #expect((oldest["tags"] as? [String: String])?["symbol"] == "EURUSD")
        #expect((oldest["tags"] as? [String: String])?["timeframe"] == "1h")
        #expect((oldest["tags"] as? [String: String])?["model_type"] == "short_term")
        #expect(Set((oldest["latest_metrics"] as? [String: Any])?.keys.map { $0 } ?? [])
                == ["train_loss", "val_loss", "val_accuracy", "samples_per_s", "lr"])
        #expect(Set(oldest["artifacts"] as? [String] ?? []) == ["checkpoints/best.safetensors", "checkpoints/last.safetensors",
                                                                 "config/short_term.yaml"])
        let sweep = try CLI.run(["runs", "list", "--experiment", "sweep", "--json", "--data-root", root])
        #expect((Self.json(sweep.stdout) as? [Any])?.count == 2)

        let table = try CLI.run(["runs", "list", "--data-root", root])
        #expect(table.status == 0 && table.stdout.contains("RUN") && table.stdout.contains(String(ids[2].prefix(12))), "\(table)")

        let show = try CLI.run(["runs", "show", String(ids[2].prefix(8)), "--json", "--data-root", root])
        let shown = try #require(Self.json(show.stdout) as? [String: Any], "\(show)")
        let history = (shown["metrics"] as? [[String: Any]] ?? []).filter { $0["key"] as? String == "val_loss" }
        #expect(history.compactMap { $0["step"] as? Int } == [1, 2])
        let showText = try CLI.run(["runs", "show", ids[2], "--data-root", root])
        #expect(showText.status == 0 && showText.stdout.contains("status      FINISHED") && showText.stdout.contains("val_loss"), "\(showText)")

        let compare = try CLI.run(["runs", "compare", ids[1], ids[2], "--data-root", root])
        #expect(compare.status == 0 && compare.stdout.contains("param epochs") && compare.stdout.contains("param seed"), "\(compare)")
        #expect(!compare.stdout.contains("param batch_size"))
        let compareJSON = try CLI.run(["runs", "compare", ids[1], ids[2], "--json", "--all", "--data-root", root])
        #expect((Self.json(compareJSON.stdout) as? [Any])?.count == 2, "\(compareJSON)")

        // Usage errors and an unknown run.
        #expect(try CLI.run(["runs", "show", "--data-root", root]).status == 64)
        #expect(try CLI.run(["runs", "compare", ids[0], "--data-root", root]).status == 64)
        #expect(try CLI.run(["runs", "list", "extra", "--data-root", root]).status == 64)
        let unknown = try CLI.run(["runs", "show", "zzzz", "--data-root", root])
        #expect(unknown.status == 1 && unknown.stderr.contains("no run 'zzzz'"), "\(unknown)")
    }
}
