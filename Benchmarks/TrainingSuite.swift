import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Training

/// `aitrader bench --suite training`: what a real `aitrader train` epoch costs around the model. For each model at
/// its design size (configs/training/<model>.yaml with configs/models/<model>.yaml; F from the feature set) on the
/// bundled EURUSD H1 sample (1h bars for all three):
/// - `<model>_train_epoch` {B: 64, L, F}: one epoch of `Trainer` steps — batches from the leak-free loader, tensors,
///   forward, loss, backward, global-norm clipping, the non-finite guard, AdamW with OneCycleLR — timed by the
///   trainer itself (validation and checkpoint writes excluded), with `samples_per_s`;
/// - beside it `model_step_samples_per_s`: the models suite's `<model>_train_step` at the same B, L and F, measured
///   in the same run, and `pipeline_overhead` = model-step rate / epoch rate - 1 (the goal: at most 0.10).
///
///     aitrader bench --suite training --threads 2 --json
public enum TrainingSuite: BenchSuite {
    public static let name = "training"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let root = ReferencePython.projectRoot() ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let sample = root.appendingPathComponent("data/sample/EURUSD_H1.csv").path
        let bars = try BarFile.load(path: sample, symbol: "EURUSD", timeframe: .h1)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-bench-training-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for type in ModelType.allCases where options.includes("\(type.rawValue)_train_epoch") {
            var config = try TrainingConfig.load(path: root.appendingPathComponent("configs/training/\(type.rawValue).yaml").path)
            // The shipped config's paths are relative to the repository root, wherever the bench runs from.
            func rooted(_ path: String) -> String { path.hasPrefix("/") ? path : root.appendingPathComponent(path).path }
            config.modelConfigPath = rooted(config.modelConfigPath)
            config.profilesPath = rooted(config.profilesPath)
            config.featuresPath = rooted(config.featuresPath)
            config.timeframe = "1h"
            config.epochs = 1
            config.maxBatchesPerEpoch = options.quick ? 3 : 12
            config.checkpointDirectory = scratch + "/" + type.rawValue
            config.saveTopK = 0
            let plan = try TrainingPlan(config: config, bars: bars)
            let trainer = Trainer(plan: plan, backend: backend)
            trainer.showProgress = false
            var epoch: EpochReport?
            trainer.onEpoch = { epoch = $0 }
            _ = try trainer.run()
            guard let epoch else { continue }
            let configuration = plan.modelConfiguration
            let step = try ModelsSuite.trainStep(configuration, backend: backend, runs: options.quick ? 2 : 6,
                                                 warmup: 1, batch: config.batchSize)
            let modelRate = step.extra.first { $0.0 == "samples_per_s" }?.1 ?? .nan
            let batches = config.maxBatchesPerEpoch ?? 0
            report.results.append(BenchResult(
                name: "\(type.rawValue)_train_epoch",
                shape: ModelsSuite.shape(configuration, batch: config.batchSize) + [("batches", batches)],
                ms: Double(batches * config.batchSize) / epoch.samplesPerSecond * 1e3, runs: 1,
                extra: [("samples_per_s", epoch.samplesPerSecond), ("model_step_samples_per_s", modelRate),
                        ("pipeline_overhead", modelRate / epoch.samplesPerSecond - 1)]))
        }
        return report
    }
}
