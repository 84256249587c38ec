import Common
import Engine
import Foundation
import MarketData
import Training

/// `aitrader tune --model M --search-space FILE.yaml --trials N [--timeout S] [--seed N] [--output best.yaml]`
enum TuneCommand: AITraderCommand {
    static let path = ["tune"]
    static let summary = "search training hyperparameters (TPE + median pruning on the validation loss)"
    static let options: [Option] = [
        Option("model", .choice(["short_term", "medium_term", "long_term"]), "", "which model to tune", required: true),
        Option("search-space", .text, "FILE", "search space YAML (e.g. configs/training/search_space.yaml)", required: true),
        Option("trials", .integer(1 ... 100_000), "N", "number of trials", required: true),
        Option("timeout", .number(.positive), "S", "start no trial after S seconds"),
        Option("seed", .integer(0 ... Int.max), "N", "seed of the sampler", default: "0"),
        Option("output", .text, "FILE", "where the best configuration goes (YAML for `aitrader train --config`)", default: "best.yaml"),
        Option("config", .text, "FILE", "base training config (default configs/training/<model>.yaml)"),
        Option("symbol", .text, "SYMBOL", "symbol in the bar store (default: the config's)"),
        Option("timeframe", .timeframe, "", "train on these bars instead of the profile's choice"),
        Option("epochs", .integer(1 ... 100_000), "N", "epochs per trial (default: the config's)"),
        Option("max-batches", .integer(1 ... Int.max), "N", "at most N training and N validation batches per epoch"),
        Option("checkpoint-dir", .text, "DIR", "trial checkpoints go to DIR/trial-NNNN (default: the config's)"),
        Option("config-root", .text, "DIR", "where configs/training, configs/models and configs/features are", default: "configs"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Each trial trains the model with the base config overridden by the trial's parameters and reports the
        validation loss after every epoch; the median pruner stops trials whose best loss so far is worse than the
        completed trials' median at that epoch (after 5 completed trials). The test split is never used. Prints every
        trial, then writes the best trial's configuration as a training YAML.
        """

    static func run(_ values: OptionValues) async throws {
        let kind = ModelType(rawValue: values.string("model") ?? "")!
        let root = values.string("config-root") ?? "configs"
        var config: TrainingConfig
        if let path = values.string("config") {
            config = try TrainingConfig.load(path: path)
            guard config.modelType == kind else { throw UsageError("\(path) trains \(config.modelType), but --model is \(kind)") }
        } else {
            let path = "\(root)/training/\(kind.rawValue).yaml"
            config = FileManager.default.fileExists(atPath: path) ? try TrainingConfig.load(path: path)
                : TrainingConfig(modelType: kind, configRoot: root)
        }
        if let s = values.string("symbol") { config.symbols = [s] }
        if let tf = values.string("timeframe") { config.timeframe = tf }
        if let e = values.int("epochs") { config.epochs = e }
        if let m = values.int("max-batches") { config.maxBatchesPerEpoch = m }
        if let dir = values.string("checkpoint-dir") { config.checkpointDirectory = dir }
        let space = try SearchSpace.load(path: values.string("search-space") ?? "", allowedKeys: TrialOverrides.keys)
        let dataRoot = try DataContext.dataRoot(values)
        let store = try DataContext.store(dataRoot: dataRoot)
        let bars = try TrainingBars.load(store: store, symbol: config.symbols[0], timeframe: try TrainingPlan.timeframe(config),
                                         purpose: "tuning \(kind)")
        let backend = try Devices.select(device: config.device, threads: config.threads)
        let tuner = try Tuner(base: config, space: space, bars: bars, backend: backend, seed: UInt64(values.int("seed") ?? 0))
        Interrupts.install()
        tuner.shouldStop = { Interrupts.requested }
        tuner.onTrial = { print($0.line); fflush(nil) }
        let trials = values.int("trials") ?? 1
        print("== tune \(kind) on \(config.symbols[0]): \(trials) trials over \(space.parameters.map(\.name).joined(separator: ", "))")
        let study = try tuner.run(trials: trials, timeout: values.double("timeout"))
        guard let best = study.best, let bestConfig = try tuner.bestConfig() else {
            print("no trial completed; nothing written")
            return
        }
        let output = values.string("output") ?? "best.yaml"
        try AtomicFile.write(Array(bestConfig.yaml.utf8), to: output)
        print("best: trial \(best.number), val loss \(String(format: "%.6f", best.value ?? .nan)); wrote \(output) "
              + "(aitrader train --model \(kind.rawValue) --config \(output))")
    }
}
