import Common
import Engine
import Foundation
import Models
import Testing
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `aitrader serve` through the binary: starts on a free port, answers, stops on SIGTERM after draining (exit 0);
/// usage and repository errors exit 64 / 65.
@Suite("CLI serve", .serialized)
struct CLIServeTests {
    /// A repository of small seeded checkpoints (the design's layout).
    static func repository() throws -> String {
        let dir = try CLI.temporaryDirectory()
        let configs: [ModelType: String] = [
            .shortTerm: #"{"attention_dim":12,"attention_heads":3,"conv_channels":[6,8,12],"conv_dropout":0.1,"conv_kernels":[3,5,7],"fc_dropout":0.1,"fc_hidden":6,"input_features":3,"layer_norm_eps":1e-05,"lstm_dropout":0.3,"lstm_hidden":7,"lstm_layers":2,"model_type":"short_term","sequence_length":8}"#,
            .mediumTerm: #"{"attention_heads":2,"d_model":8,"input_features":3,"layer_norm_eps":1e-05,"model_type":"medium_term","sequence_length":8}"#,
            .longTerm: #"{"attention_heads":2,"block_layers":2,"block_width":12,"d_model":8,"dropout":0.1,"encoder_layers":1,"feedforward":16,"forecast_horizon":4,"fusion_hidden":6,"input_features":3,"layer_norm_eps":1e-05,"model_type":"long_term","regime_classes":3,"regime_head":true,"seasonality_blocks":1,"seasonality_harmonics":null,"sequence_length":8,"trend_blocks":1,"trend_degree":3}"#,
        ]
        for model in ModelType.allCases {
            let network = try HorizonModels.make(try ModelConfiguration(json: configs[model]!, modelType: model, location: "test"),
                                                 backend: .cpu, seed: 3)
            try FileManager.default.createDirectory(atPath: "\(dir)/\(model.rawValue)", withIntermediateDirectories: true)
            try Checkpoint.save(network, metadata: CheckpointMetadata(featureNames: ["a", "b", "c"], runID: "cli"),
                                to: "\(dir)/\(model.rawValue)/best.safetensors")
        }
        return dir
    }

    static func get(_ url: String) -> (Int, String) {
        let done = DispatchSemaphore(value: 0)
        let box = Box()
        URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
            box.status = (response as? HTTPURLResponse)?.statusCode ?? -1
            box.body = data.map { String(decoding: $0, as: UTF8.self) } ?? ""
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 20)
        return (box.status, box.body)
    }

    final class Box: @unchecked Sendable {
        var status = -1
        var body = ""
    }

    @Test("starts on a free port, serves metadata, stops on SIGTERM with exit 0")
    func servesAndStops() throws {
        let executable = try #require(CLI.executable)
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--model-repository", dir, "--port", "0", "--device", "cpu", "--threads", "1"]
        process.currentDirectoryURL = CLI.root
        let out = Pipe()
        defer { try? out.fileHandleForReading.close() }   // Foundation's Process would keep it open while it lives
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var text = ""
        var chunk = [UInt8](repeating: 0, count: 512)
        let deadline = Date(timeIntervalSinceNow: 30)
        while !text.contains("\n"), Date() < deadline {
            let n = read(out.fileHandleForReading.fileDescriptor, &chunk, chunk.count)
            if n <= 0 { break }
            text += String(decoding: chunk[0..<n], as: UTF8.self)
        }
        let port = try #require(text.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) }, "no address in: \(text)")
        #expect(text.contains("models short_term, medium_term, long_term, ensemble"))
        #expect(Self.get("http://127.0.0.1:\(port)/v2/health/ready").0 == 200)
        let (status, body) = Self.get("http://127.0.0.1:\(port)/v2/models/short_term")
        #expect(status == 200 && body.contains("[-1,8,3]"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(rest.contains("answering queued requests") && rest.contains("stopped"))
    }

    @Test("bad options exit 64; a missing repository exits 65 naming it")
    func errors() throws {
        let usage = try CLI.run(["serve", "--model-repository", "x", "--max-batch", "8", "--preferred-batch", "16"])
        #expect(usage.status == 64 && usage.stderr.contains("--preferred-batch 16 is larger than --max-batch 8"), "\(usage)")
        let missing = try CLI.run(["serve", "--model-repository", "/nonexistent/models", "--port", "0", "--device", "cpu"])
        #expect(missing.status == 65 && missing.stderr.contains("/nonexistent/models"), "\(missing)")
    }
}
