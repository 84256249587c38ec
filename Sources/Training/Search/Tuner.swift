import Common
import Engine
import Foundation
import MarketData

/// Hyperparameter search over training runs (`aitrader tune`): each trial trains the base configuration with
/// the trial's parameters applied (`TrialOverrides`) in `<checkpoint dir>/trial-NNNN`, reports the validation loss
/// after every epoch to the median pruner (which stops the trial through the trainer's `shouldStop`), and its value
/// is the lowest validation loss of the run. Only the validation split is ever looked at; the test split is not
/// touched. The sampler is TPE seeded with `seed`, so a search is reproducible (with the trainer's determinism).
///
///     let tuner = Tuner(base: config, space: space, bars: bars, backend: .cpu, seed: 7)
///     tuner.onTrial = { print($0.line) }
///     let study = try tuner.run(trials: 20)
///     try tuner.bestConfig(study)?.yaml.write(toFile: "best.yaml", atomically: true, encoding: .utf8)
public final class Tuner {
    /// One finished trial, for printing.
    public struct Report: Sendable {
        public let trial: Trial
        public let parameters: [(name: String, value: String)]
        public let epochsRun: Int
        public let directory: String

        public var line: String {
            let params = parameters.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            let value = trial.value.map { String(format: "%.6f", $0) } ?? "-"
            return "trial \(trial.number): \(trial.state.rawValue) after \(epochsRun) epochs, val loss \(value)  \(params)"
        }
    }

    public let base: TrainingConfig
    public let space: SearchSpace
    public let bars: BarSeries
    public let backend: Backend
    public let study: Study
    public var onTrial: (Report) -> Void = { _ in }
    public var onEpoch: (Int, EpochReport) -> Void = { _, _ in }
    /// Polled after every optimizer step; true ends the search after writing the trial's `last`.
    public var shouldStop: () -> Bool = { false }
    public var showProgress = false

    public init(base: TrainingConfig, space: SearchSpace, bars: BarSeries, backend: Backend, seed: UInt64,
                pruner: MedianPruner = MedianPruner()) throws(TrainingError) {
        self.base = base
        self.space = space
        self.bars = bars
        self.backend = backend
        study = Study(space: space, sampler: TPESampler(seed: seed), pruner: pruner)
        // Every value a trial can take must apply (e.g. a categorical batch size that is not a number).
        for p in space.parameters {
            var probe = base
            switch p.distribution {
            case let .float(low, high, _): for v in [low, high] { try TrialOverrides.apply(p.name, p.distribution.text(v), to: &probe) }
            case let .int(low, high, _, _): for v in [low, high] { try TrialOverrides.apply(p.name, "\(v)", to: &probe) }
            case .categorical(let choices): for c in choices { try TrialOverrides.apply(p.name, c, to: &probe) }
            }
        }
    }

    /// The base configuration with `parameters` applied (checkpoint directory unchanged).
    public func config(_ parameters: [Double]) throws(TrainingError) -> TrainingConfig {
        var config = base
        for (p, x) in zip(space.parameters, parameters) { try TrialOverrides.apply(p.name, p.distribution.text(x), to: &config) }
        return config
    }

    /// The best trial's configuration (checkpoints in the base directory), or nil when no trial completed.
    public func bestConfig() throws(TrainingError) -> TrainingConfig? {
        guard let best = study.best else { return nil }
        return try config(best.parameters)
    }

    /// Runs up to `trials` trials, starting none after `timeout` seconds; returns early when `shouldStop` says so.
    public func run(trials: Int, timeout: Double? = nil) throws(TrainingError) -> Study {
        let started = ContinuousClock.now
        for _ in 0 ..< trials {
            if let timeout, Self.seconds(since: started) >= timeout { break }
            let n = study.ask()
            var config = try config(study.trials[n].parameters)
            config.checkpointDirectory = base.checkpointDirectory + String(format: "/trial-%04d", n)
            let trainer = Trainer(plan: try TrainingPlan(config: config, bars: bars), backend: backend)
            trainer.showProgress = showProgress
            var pruned = false, epochs = 0
            trainer.onEpoch = { [study] report in
                epochs = report.epoch + 1
                study.report(n, step: report.epoch, value: report.validationLoss)
                self.onEpoch(n, report)
                if study.shouldPrune(n) { pruned = true }
            }
            let external = shouldStop
            trainer.shouldStop = { pruned || external() }
            do {
                switch try trainer.run() {
                case .finished(let summary):
                    if pruned { study.tell(n, state: .pruned) }
                    else { study.tell(n, state: .complete, value: study.trials[n].intermediate.values.min() ?? summary.bestValidationLoss ?? .nan) }
                case .interrupted:
                    study.tell(n, state: pruned ? .pruned : .failed)
                }
            } catch {
                // A run that diverged is a failed trial, not the end of the search (Optuna: TrialState.FAIL).
                guard case .nonFinite = error else { throw error }
                study.tell(n, state: .failed)
            }
            onTrial(Report(trial: study.trials[n],
                           parameters: zip(space.parameters, study.trials[n].parameters).map { ($0.name, $0.distribution.text($1)) },
                           epochsRun: epochs, directory: config.checkpointDirectory))
            if !pruned, external() { break }
        }
        return study
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
