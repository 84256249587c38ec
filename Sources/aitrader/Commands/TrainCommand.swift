import Common
import Engine
import Features
import Foundation
import MarketData
import Training
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader train --model short_term|medium_term|long_term|all --profile trader --symbol EURUSD [--config FILE]
/// [--timeframe TF] [--epochs N] [--resume CKPT] [--checkpoint-dir DIR] [--walk-forward K [--commission RATE]]`
enum TrainCommand: AITraderCommand {
    static let path = ["train"]
    static let summary = "train the horizon models on stored bars (checkpoints with everything needed to predict)"
    static let options: [Option] = [
        Option("model", .choice(["short_term", "medium_term", "long_term", "all"]), "", "which model to train", required: true),
        Option("config", .text, "FILE", "training config (default configs/training/<model>.yaml); one model only"),
        Option("profile", .text, "NAME", "trading profile of configs/features/profiles.yaml giving the timeframe (default: the config's)"),
        Option("symbol", .text, "SYMBOL", "symbol in the bar store (default: the config's)"),
        Option("timeframe", .timeframe, "", "train on these bars instead of the profile's choice (e.g. 1d when only daily bars exist)"),
        Option("epochs", .integer(1 ... 100_000), "N", "epochs (default: the config's)"),
        Option("max-batches", .integer(1 ... Int.max), "N", "at most N training and N validation batches per epoch (quick runs)"),
        Option("resume", .text, "CKPT", "continue the run whose last.safetensors this is (one model only)"),
        Option("checkpoint-dir", .text, "DIR", "where checkpoints go (default: the config's; with --model all, DIR/<model>)"),
        Option("seed", .integer(0 ... Int.max), "N", "seed of weights, dropout and data order (default: the config's)"),
        Option("loss", .choice(["beta_nll", "evidential", "beta_nll_rank"]), "",
               "direction loss (default: the config's `loss`, else beta_nll; evidential keeps the config's regulariser settings)"),
        Option("walk-forward", .integer(2 ... 1000), "K",
               "train K models on expanding windows, each tested on the next block; per-fold and pooled out-of-sample figures (one model only)"),
        Option("commission", .number(.fraction), "RATE", "with --walk-forward: fraction of traded value per position change in the simulated trading (default 0)"),
        Option("config-root", .text, "DIR", "where configs/training, configs/models and configs/features are", default: "configs"),
        Option("experiment", .text, "NAME", "experiment the run is tracked under (default: train-<model>)"),
        Option("mlflow-uri", .text, "URI", "also log the run to this MLflow tracking server (default: $MLFLOW_TRACKING_URI)"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Prints per epoch the training loss, validation loss, validation accuracy and samples/s. Writes into the
        checkpoint directory the top-k checkpoints by validation loss (epoch-NNNN.safetensors), best.safetensors and
        last.safetensors (atomically). Stops early when the validation loss has not improved by min_delta for
        `patience` epochs. On Ctrl-C (SIGINT) or SIGTERM it finishes the step, writes last.safetensors and exits with
        status 130, printing the command that resumes; a resumed run ends with the same checkpoints as an
        uninterrupted one (same config and --threads). Two runs with the same config and --threads write identical
        checkpoints.

        Every run is tracked in <data-root>/runs (`aitrader runs list|show|compare`): params (the training config),
        tags (model type, symbol, timeframe, code version), per-epoch train_loss, val_loss, val_accuracy,
        samples_per_s and lr, every log_every_steps (50) optimizer steps the gradient norms before clipping
        (grad_norm/global and grad_norm/<layer group>), the checkpoints and config as artifacts, and the status (FINISHED, FAILED, KILLED on
        an interrupt). With --mlflow-uri or MLFLOW_TRACKING_URI the run is also logged to that MLflow server; when the
        server fails, one warning says so and the run goes on, tracked locally.

        With --walk-forward K: K models on expanding windows. The samples after the splits' train share are cut
        into K consecutive test blocks; fold k trains on everything before its block (its validation tail, the
        validation / (train + validation) share, drives early stopping), purged and embargoed at every boundary,
        scaler fitted on its training rows, seed + k, checkpoints in DIR/fold-<k>/. Each fold's best checkpoint is
        evaluated on its test block (DIR/fold-<k>/evaluation/) against always_up, previous_return, logistic and
        base_rate; the test predictions of all folds are pooled. Prints per-fold and pooled accuracy, log loss,
        Brier, ECE and simulated Sharpe with day-block bootstrap intervals and writes DIR/walk_forward.json: the
        pooled figures are the out-of-sample number to quote, never the validation split.
        """

    static func run(_ values: OptionValues) async throws {
        let modelText = values.string("model") ?? ""
        let kinds = modelText == "all" ? ModelType.allCases : [ModelType(rawValue: modelText)!]
        if kinds.count > 1 {
            for option in ["config", "resume", "walk-forward"] where values.isGiven(option) {
                throw UsageError("--\(option) names one run; use it with --model short_term, medium_term or long_term")
            }
        }
        let dataRoot = try DataContext.dataRoot(values)
        let store = try DataContext.store(dataRoot: dataRoot)
        let root = values.string("config-root") ?? "configs"
        Interrupts.install()
        let trackingRoot = LocalTracker.root(dataRoot: dataRoot)
        let mlflowURI = MLflowTracker.configuredURI(option: values.string("mlflow-uri"))
        var summaries: [(ModelType, TrainingSummary)] = []
        for kind in kinds {
            var config: TrainingConfig
            if let path = values.string("config") {
                config = try TrainingConfig.load(path: path)
                guard config.modelType == kind else {
                    throw UsageError("\(path) trains \(config.modelType), but --model is \(kind)")
                }
            } else {
                let path = "\(root)/training/\(kind.rawValue).yaml"
                config = FileManager.default.fileExists(atPath: path) ? try TrainingConfig.load(path: path)
                    : TrainingConfig(modelType: kind, configRoot: root)
            }
            if let p = values.string("profile") { config.profile = p }
            if let s = values.string("symbol") { config.symbols = [s] }
            if let tf = values.string("timeframe") { config.timeframe = tf }
            if let e = values.int("epochs") { config.epochs = e }
            if let m = values.int("max-batches") { config.maxBatchesPerEpoch = m }
            if let s = values.int("seed") { config.seed = UInt64(s) }
            if let text = values.string("loss"), let kind = LossConfig.Kind(rawValue: text), kind != config.loss?.kind {
                config.loss = LossConfig(kind: kind)
            }
            if let dir = values.string("checkpoint-dir") { config.checkpointDirectory = kinds.count > 1 ? "\(dir)/\(kind.rawValue)" : dir }
            if values.isGiven("device") { config.device = values.string("device") ?? config.device }
            if let t = values.int("threads") { config.threads = t }

            let timeframe = try TrainingPlan.timeframe(config)
            let purpose = config.timeframe == nil ? "the \(config.profile) profile's \(kind) model" : "\(kind) with --timeframe"
            let bars = try TrainingBars.load(store: store, symbol: config.symbols[0], timeframe: timeframe, purpose: purpose)
            if let k = values.int("walk-forward") {
                guard !values.isGiven("resume") else { throw UsageError("--walk-forward starts over; it does not take --resume") }
                try await walkForward(config: config, bars: bars, folds: k, values: values, trackingRoot: trackingRoot,
                                      mlflowURI: mlflowURI, configPath: values.string("config") ?? "\(root)/training/\(kind.rawValue).yaml")
                return
            }
            let plan = try TrainingPlan(config: config, bars: bars)
            let backend = try Devices.select(device: config.device, threads: config.threads)
            let trainer = Trainer(plan: plan, backend: backend)
            trainer.shouldStop = { Interrupts.requested }
            let tracked = await startTracking(plan: plan, trainer: trainer, backend: backend.name, root: trackingRoot,
                                              mlflowURI: mlflowURI, experiment: values.string("experiment"),
                                              configPath: values.string("config") ?? "\(root)/training/\(kind.rawValue).yaml")
            trainer.onEpoch = { report in
                print(report.line)
                fflush(nil)
                tracked.log(TrainingTracking.metrics(report))
            }
            trainer.onGradientNorms = { tracked.log(TrainingTracking.metrics($0)) }
            let d = plan.dataset
            print("== train \(kind) on \(plan.symbol) \(plan.timeframe) (\(bars.count) bars), \(d.featureCount) features, "
                  + "window \(d.window), label horizon \(d.horizon); samples train \(d.split.train.count) / validation "
                  + "\(d.split.validation.count) / test \(d.split.test.count); \(trainer.batchesPerEpoch) steps/epoch; "
                  + "device \(backend.name)")
            fflush(nil)
            let outcome = try await run(trainer, tracked: tracked, resume: kinds.count == 1 ? values.string("resume") : nil,
                                        logLastOnFailure: true)
            switch outcome {
            case .finished(let summary):
                summaries.append((kind, summary))
                let best = summary.bestValidationLoss.map { String(format: "%.4f", $0) } ?? "-"
                print("\(kind): \(summary.stoppedEarly ? "stopped early" : "done") after \(summary.epochsRun) epochs "
                      + "(\(summary.steps) steps), best val loss \(best)"
                      + (summary.bestEpoch.map { " at epoch \($0 + 1)" } ?? ""))
                print("  checkpoints: \(summary.directory) (best.safetensors, last.safetensors, \(summary.topK.count) top-k)")
            case .interrupted(let checkpoint, let epoch, let step):
                tracked.logArtifact(path: checkpoint, name: "checkpoints/last.safetensors")
                await tracked.end(.killed)
                print("interrupted in epoch \(epoch + 1) after step \(step); saved \(checkpoint)")
                print("resume with: \(resumeCommand(values, kind: kind, checkpoint: checkpoint))")
                fflush(nil)
                exit(130)
            }
        }
        if summaries.count > 1 {
            print("== checkpoints")
            for (kind, s) in summaries { print("  \(kind): \(s.best ?? s.last)") }
        }
    }

    /// `--walk-forward K`: every fold's plan is checked first (too little data is an error before any training),
    /// then each fold trains (tracked as its own run), is evaluated on its test block, and the pooled figures are
    /// printed and written as <checkpoint-dir>/walk_forward.json.
    static func walkForward(config: TrainingConfig, bars: BarSeries, folds: Int, values: OptionValues, trackingRoot: String,
                            mlflowURI: String?, configPath: String) async throws {
        let options = Evaluation.Options(part: .test, commission: values.double("commission") ?? 0)
        let wf = WalkForward(config: config, bars: bars, folds: folds, evaluation: options)
        let plans = try wf.plans()
        let backend = try Devices.select(device: config.device, threads: config.threads)
        var evaluated: [WalkForward.EvaluatedFold] = []
        for (k, plan) in plans.enumerated() {
            let trainer = Trainer(plan: plan, backend: backend)
            trainer.shouldStop = { Interrupts.requested }
            let tracked = await startTracking(plan: plan, trainer: trainer, backend: backend.name, root: trackingRoot,
                                              mlflowURI: mlflowURI, experiment: values.string("experiment"), configPath: configPath)
            tracked.setTags(["walk_forward_fold": "\(k)", "walk_forward_folds": "\(folds)"])
            trainer.onEpoch = { report in
                print("  fold \(k) " + report.line)
                fflush(nil)
                tracked.log(TrainingTracking.metrics(report))
            }
            trainer.onGradientNorms = { tracked.log(TrainingTracking.metrics($0)) }
            let s = plan.dataset.split
            print("== walk-forward fold \(k) of \(folds): train \(s.train.count) / validation \(s.validation.count) / test "
                  + "\(s.test.count) samples; seed \(plan.config.seed); checkpoints \(plan.config.checkpointDirectory)")
            fflush(nil)
            let outcome = try await run(trainer, tracked: tracked, resume: nil, logLastOnFailure: false)
            switch outcome {
            case .finished(let summary):
                evaluated.append(try wf.evaluate(fold: k, plan: plan, summary: summary, backend: backend))
            case .interrupted(let checkpoint, let epoch, let step):
                await tracked.end(.killed)
                print("interrupted in fold \(k), epoch \(epoch + 1) after step \(step); saved \(checkpoint). "
                      + "Walk-forward does not resume: run it again.")
                fflush(nil)
                exit(130)
            }
        }
        let result = try wf.pool(evaluated, plan: plans[0])
        let path = try result.write(to: config.checkpointDirectory)
        print(result.table)
        print("  written: \(path) (per fold: <fold-k>/evaluation/)")
    }

    /// Runs `trainer` under `tracked`: a failure is tagged, ends the run FAILED and is rethrown (with `last` as an
    /// artifact when `logLastOnFailure`); a finished run gets its best and last checkpoints as artifacts and ends
    /// FINISHED. An interruption is the caller's to report.
    static func run(_ trainer: Trainer, tracked: TrackedRun, resume: String?, logLastOnFailure: Bool) async throws
        -> TrainingOutcome {
        let outcome: TrainingOutcome
        do { outcome = try trainer.run(resume: resume) } catch {
            tracked.setTags(["error": UntrustedText.sanitized("\(error)", limit: 1000)])
            if logLastOnFailure { tracked.logArtifact(path: trainer.lastPath, name: "checkpoints/last.safetensors") }
            await tracked.end(.failed)
            throw error
        }
        if case .finished(let summary) = outcome {
            if let best = summary.best { tracked.logArtifact(path: best, name: "checkpoints/best.safetensors") }
            tracked.logArtifact(path: summary.last, name: "checkpoints/last.safetensors")
            await tracked.end(.finished)
        }
        return outcome
    }

    /// Starts tracking one run: the local store under the data root, mirrored to MLflow when a URI is configured;
    /// the training config file goes in as an artifact. Warnings (one line each) go to standard error.
    static func startTracking(plan: TrainingPlan, trainer: Trainer, backend: String, root: String, mlflowURI: String?,
                              experiment: String?, configPath: String) async -> TrackedRun {
        let warn: @Sendable (String) -> Void = { writeError("aitrader train: " + UntrustedText.sanitized($0, limit: 2000) + "\n") }
        var local: LocalTracker?
        do { local = try LocalTracker(root: root) } catch { warn("warning: run tracking failed (\(error)); training goes on untracked") }
        var mirror: MLflowTracker?
        if let mlflowURI {
            do { mirror = try MLflowTracker(uri: mlflowURI) } catch {
                warn("warning: \(error); the run is tracked in the local store only (\(local?.destination ?? "none"))")
            }
        }
        var tags = TrainingTracking.tags(plan, device: backend)
        tags["checkpoint_dir"] = trainer.directory
        let tracked = await TrackedRun.start(local: local, mirror: mirror,
                                             experiment: experiment ?? TrainingTracking.experiment(plan.config.modelType),
                                             name: trainer.runID, params: TrainingTracking.params(plan.config), tags: tags, warn: warn)
        if FileManager.default.fileExists(atPath: configPath) { tracked.logArtifact(path: configPath, name: "config/" + (configPath as NSString).lastPathComponent) }
        if let id = tracked.localRunID { print("tracking run \(id) in \(root)" + (tracked.mirrorRunID != nil ? " and \(mirror?.destination ?? "")" : "")) }
        fflush(nil)
        return tracked
    }

    /// The same command line with `--model` narrowed to this model and `--resume` set to the saved checkpoint.
    static func resumeCommand(_ values: OptionValues, kind: ModelType, checkpoint: String) -> String {
        var words = ["aitrader", "train"]
        var args = Array(CommandLine.arguments.dropFirst())
        if let i = args.firstIndex(of: "train") { args.removeSubrange(...i) }
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--model" || a == "--resume" { i += 2; continue }
            if a.hasPrefix("--model=") || a.hasPrefix("--resume=") { i += 1; continue }
            words.append(a)
            i += 1
        }
        words += ["--model", kind.rawValue, "--resume", checkpoint]
        if values.isGiven("checkpoint-dir"), values.string("model") == "all" {
            // --model all put this model's checkpoints in DIR/<model>; keep them there.
            if let j = words.firstIndex(of: "--checkpoint-dir"), j + 1 < words.count { words[j + 1] += "/\(kind.rawValue)" }
        }
        return words.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }
}

/// SIGINT / SIGTERM during training: the first one asks the trainer to stop after its current step (it writes
/// `last` and exits 130); a second one ends the process at once.
enum Interrupts {
    nonisolated(unsafe) private static let flag: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: 1)
        p.pointee = 0
        return p
    }()

    static var requested: Bool { flag.pointee != 0 }

    static func install() {
        _ = flag
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                if Interrupts.flag.pointee != 0 { _exit(128 + s) }
                Interrupts.flag.pointee = 1
            }
        }
    }
}
