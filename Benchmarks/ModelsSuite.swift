import Common
import Engine
import Foundation
import Models

/// `aitrader bench --suite models`: the three horizon models at the design sizes (models.md, F = 32), names of
/// shared/design/benchmarks.md:
/// - `<model>_train_step` {B: 64}: forward + BetaNLL + backward + AdamW, dropout active, no clipping, with
///   `samples_per_s`;
/// - `<model>_infer` {B: 1} (the robot's live call: median of many) and {B: 256} (batched scoring), inference
///   mode, no gradients, with `samples_per_s`;
/// - `ensemble_infer` {B: 1}: the three models one after another, each on its own window.
/// Inputs are synthetic (seeded normal features, a normalised random-walk close). `tools/reference/bench_torch.py
/// --suite models` measures PyTorch on the same shapes.
///
///     let report = try await ModelsSuite.run(BenchOptions(device: "cpu", threads: 2))
public enum ModelsSuite: BenchSuite {
    public static let name = "models"
    static let features = 32
    static let trainBatch = 64
    static let scoringBatch = 256

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        let info = try backend.info()
        let threads = backend.name == "cpu" ? info.threads : (try Backend.cpu.info().threads)
        var report = BenchReport(suite: name, device: backend.name, deviceName: info.name, threads: threads)
        let quick = options.quick
        var inference: [ModelType: any HorizonModel] = [:]
        for type in ModelType.allCases {
            var config = ModelConfiguration.defaults(type)
            config.inputFeatures = features
            let name = type.rawValue
            if options.includes("\(name)_train_step") {
                report.results.append(try trainStep(config, backend: backend, runs: quick ? 2 : 10, warmup: quick ? 1 : 2))
            }
            let infer1 = options.includes("\(name)_infer", batch: 1)
            let inferScoring = options.includes("\(name)_infer", batch: scoringBatch)
            guard infer1 || inferScoring || options.includes("ensemble_infer") else { continue }
            let model = try HorizonModels.make(config, backend: backend, seed: 7, trainable: false)
            inference[type] = model
            if infer1 { report.results.append(try infer(model, batch: 1, runs: quick ? 5 : 200, warmup: quick ? 1 : 10)) }
            if inferScoring { report.results.append(try infer(model, batch: scoringBatch, runs: quick ? 1 : 5, warmup: 1)) }
        }
        if options.includes("ensemble_infer") {
            report.results.append(try ensemble(ModelType.allCases.map { inference[$0]! }, runs: quick ? 5 : 100,
                                               warmup: quick ? 1 : 5))
        }
        return report
    }

    /// Seeded synthetic inputs of `batch` windows for `configuration`.
    static func input(_ configuration: ModelConfiguration, batch: Int, backend: Backend, seed: UInt64) throws -> ModelInput {
        var rng = SeededGenerator(seed: seed)
        let (l, f) = (configuration.sequenceLength, configuration.inputFeatures)
        let x = try Tensor((0 ..< batch * l * f).map { _ in rng.normal() }, shape: [batch, l, f], on: backend)
        var close: Tensor?
        if configuration.modelType.needsClose {
            var values: [Float] = []
            for _ in 0 ..< batch {
                var walk: [Float] = []
                var level: Float = 0
                for _ in 0 ..< l { level += 0.1 * rng.normal(); walk.append(level) }
                let mean = walk.reduce(0, +) / Float(l)
                let std = (walk.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(l)).squareRoot() + 1e-6
                values += walk.map { ($0 - mean) / std }
            }
            close = try Tensor(values, shape: [batch, l], on: backend)
        }
        return ModelInput(features: x, close: close)
    }

    static func shape(_ configuration: ModelConfiguration, batch: Int) -> [(String, Int)] {
        [("B", batch), ("L", configuration.sequenceLength), ("F", configuration.inputFeatures)]
    }

    static func trainStep(_ configuration: ModelConfiguration, backend: Backend, runs: Int, warmup: Int,
                          batch trainBatch: Int = trainBatch) throws -> BenchResult {
        let model = try HorizonModels.make(configuration, backend: backend, seed: 3)
        let optimizer = try AdamW(model.parameters, learningRate: 1e-4)
        let loss = BetaNLLLoss()
        let input = try input(configuration, batch: trainBatch, backend: backend, seed: 11)
        let labels = try Tensor((0 ..< trainBatch).map { Float($0 % 2) }, shape: [trainBatch], on: backend)
        let ms = try Stopwatch.median(runs: runs, warmup: warmup) {
            try model.parameters.zeroGradients()
            let out = try model.forward(input)
            _ = try loss.forward(out.prediction, labels: labels)   // reads the loss: one device sync per step
            let (dAlpha, dBeta) = try loss.backward()
            try model.backward(OutputGradients(alpha: dAlpha, beta: dBeta))
            try optimizer.step()
            try backend.sync()
        }
        return BenchResult(name: "\(configuration.modelType.rawValue)_train_step", shape: shape(configuration, batch: trainBatch),
                           ms: ms, runs: runs, extra: [("samples_per_s", Double(trainBatch) / (ms / 1e3))])
    }

    static func infer(_ model: any HorizonModel, batch: Int, runs: Int, warmup: Int) throws -> BenchResult {
        let configuration = model.configuration
        let input = try input(configuration, batch: batch, backend: model.backend, seed: 13)
        let ms = try Stopwatch.median(runs: runs, warmup: warmup) {
            _ = try model.forward(input).prediction.values()   // results on the host, as the robot reads them
        }
        return BenchResult(name: "\(configuration.modelType.rawValue)_infer", shape: shape(configuration, batch: batch),
                           ms: ms, runs: runs, extra: [("samples_per_s", Double(batch) / (ms / 1e3))])
    }

    static func ensemble(_ models: [any HorizonModel], runs: Int, warmup: Int) throws -> BenchResult {
        let inputs = try models.map { try input($0.configuration, batch: 1, backend: $0.backend, seed: 17) }
        let ms = try Stopwatch.median(runs: runs, warmup: warmup) {
            for (model, input) in zip(models, inputs) { _ = try model.forward(input).prediction.values() }
        }
        return BenchResult(name: "ensemble_infer", shape: [("B", 1)], ms: ms, runs: runs,
                           extra: [("samples_per_s", 1 / (ms / 1e3))])
    }
}
