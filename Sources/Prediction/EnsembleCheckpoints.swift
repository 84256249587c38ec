import Common
import Foundation
import Models

/// Finds the checkpoint each model type predicts with, in the layout `aitrader train --model all` writes:
///
///     DIR/short_term/best.safetensors      the lowest validation loss of the run
///     DIR/short_term/epoch-0007.safetensors  the top-k by validation loss (metadata `val_loss`)
///     DIR/short_term/last.safetensors      the last epoch (with the resume state)
///
/// `best.safetensors` when present; else the file with the lowest recorded `val_loss` (a later epoch on ties);
/// else `last.safetensors`. The file must be a checkpoint of that model type.
///
///     let paths = try EnsembleCheckpoints.find(in: "results/demo_checkpoints")   // [.shortTerm: ".../best.safetensors", ...]
public enum EnsembleCheckpoints {
    public static func find(in directory: String, models: [ModelType] = ModelType.allCases) throws(PredictionError) -> [ModelType: String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .checkpoint(path: directory, message: "no such checkpoints directory (train the models first: aitrader train --model all "
                + "--checkpoint-dir \(directory) ...)")
        }
        var out: [ModelType: String] = [:]
        for model in models { out[model] = try best(in: directory + "/" + model.rawValue, model: model) }
        return out
    }

    /// The checkpoint of `model` to use from one model's directory.
    public static func best(in directory: String, model: ModelType) throws(PredictionError) -> String {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) }
        catch {
            throw .checkpoint(path: directory, message: "no \(model.rawValue) checkpoints here (expected best.safetensors from "
                + "aitrader train --model \(model.rawValue) or --model all)")
        }
        let files = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        if files.contains("best.safetensors") { return directory + "/best.safetensors" }
        var candidates: [(loss: Double, epoch: Int, path: String)] = []
        for name in files where name != "last.safetensors" {
            let path = directory + "/" + name
            guard let contents = try? Checkpoint.read(path), contents.modelType == model,
                  let loss = contents.metadata.extra["val_loss"].flatMap(Double.init), loss.isFinite else { continue }
            candidates.append((loss, Int(contents.metadata.extra["epoch"] ?? "") ?? 0, path))
        }
        if let chosen = candidates.min(by: { ($0.loss, -$0.epoch) < ($1.loss, -$1.epoch) }) { return chosen.path }
        if files.contains("last.safetensors") { return directory + "/last.safetensors" }
        throw .checkpoint(path: directory, message: "holds no \(model.rawValue) checkpoint (best.safetensors, epoch-NNNN.safetensors "
            + "with a val_loss, or last.safetensors)")
    }
}
