import Common
import Engine
import Foundation
import Models

/// `aitrader model forward --checkpoint CK --input X --output Y`: runs a checkpoint (ours or one written from
/// PyTorch with the reference names) on a batch of windows stored in a safetensors file and writes the outputs.
enum ModelForwardCommand: AITraderCommand {
    static let path = ["model", "forward"]
    static let summary = "run a model checkpoint on input windows (safetensors in, safetensors out)"
    static let options: [Option] = [
        Option("checkpoint", .text, "CK.safetensors", "the model checkpoint", required: true),
        Option("input", .text, "X.safetensors", "input windows: x (B, L, F), and close (B, L) for long_term",
               required: true),
        Option("output", .text, "Y.safetensors", "where the outputs are written", required: true),
        Option("batch-size", .integer(1 ... 1 << 20), "N", "rows per forward pass", default: "256"),
    ]
    static let discussion = """
        Input tensors: x (B, L, F) — the scaled feature windows — and, for long_term, close (B, L), the normalised
        close series (any float dtype; converted to F32). L and F must match the checkpoint's config.
        Output tensors (F32): alpha (B), beta (B) and the model's extras: short_term attention (B, heads, L, L);
        medium_term importance (F), variable_weights (B, L, F), attention (B, heads, L, L); long_term forecast
        (B, H) and regime (B, K). Rows are processed in chunks of --batch-size (importance is then the average over
        all rows). Inference mode: dropout off.
        """

    static func run(_ values: OptionValues) async throws {
        let checkpointPath = values.string("checkpoint") ?? ""
        let inputPath = values.string("input") ?? ""
        let outputPath = values.string("output") ?? ""
        let batchSize = values.int("batch-size") ?? 256
        let device = values.string("device") ?? "auto"
        let threads = values.int("threads")

        let backend = try Devices.select(device: device, threads: threads)
        let (model, metadata) = try Checkpoint.load(checkpointPath, backend: backend)
        let config = model.configuration
        let input = try SafetensorsFile(contentsOf: inputPath)
        let x = try input.tensor("x")
        guard x.shape.count == 3, x.shape[1] == config.sequenceLength, x.shape[2] == config.inputFeatures else {
            throw ModelError.shapeMismatch(context: "\(inputPath): tensor 'x'",
                                           message: "shape \(x.shape), the \(config.modelType.rawValue) checkpoint expects (B, \(config.sequenceLength), \(config.inputFeatures))")
        }
        let rows = x.shape[0], l = x.shape[1], f = x.shape[2]
        let features = try x.floats(source: inputPath, name: "x")
        var close: [Float]?
        if config.modelType.needsClose {
            let c = try input.tensor("close")
            guard c.shape == [rows, l] else {
                throw ModelError.shapeMismatch(context: "\(inputPath): tensor 'close'", message: "shape \(c.shape), expected [\(rows), \(l)]")
            }
            close = try c.floats(source: inputPath, name: "close")
        }

        var collected: [String: (shape: [Int], values: [Float])] = [:]
        var importanceSum: [Double]?
        var start = 0
        while start < rows {
            let n = min(batchSize, rows - start)
            let out = try model.forward(features: Array(features[(start * l * f) ..< ((start + n) * l * f)]),
                                        close: close.map { Array($0[(start * l) ..< ((start + n) * l)]) }, rows: n)
            for (name, tensor) in out.namedTensors {
                let values = try tensor.toArray()
                if name == "importance" {   // per-chunk mean -> weighted by rows
                    var sum = importanceSum ?? [Double](repeating: 0, count: values.count)
                    for i in values.indices { sum[i] += Double(values[i]) * Double(n) }
                    importanceSum = sum
                    continue
                }
                var entry = collected[name] ?? (shape: [0] + Array(tensor.shape.dropFirst()), values: [])
                entry.shape[0] += n
                entry.values += values
                collected[name] = entry
            }
            start += n
        }

        var output = SafetensorsFile(metadata: [
            "model_type": config.modelType.rawValue, "checkpoint": checkpointPath, "run_id": metadata.runID,
            "device": backend.name, "input": inputPath,
        ])
        for (name, entry) in collected { output.tensors[name] = SafetensorsTensor(shape: entry.shape, floats: entry.values) }
        if let importanceSum {
            output.tensors["importance"] = SafetensorsTensor(shape: [importanceSum.count],
                                                             floats: importanceSum.map { Float($0 / Double(rows)) })
            if !metadata.featureNames.isEmpty { output.metadata["feature_names"] = metadata.featureNames.joined(separator: ",") }
        }
        try output.write(to: outputPath)
        let names = output.tensors.keys.sorted().map { "\($0) \(output.tensors[$0]!.shape)" }.joined(separator: ", ")
        print("\(config.modelType.rawValue) on \(backend.name): \(rows) windows -> \(outputPath): \(names)")
    }
}
