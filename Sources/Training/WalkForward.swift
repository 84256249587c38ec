import Common
import Engine
import Features
import Foundation
import MarketData
import Models

/// `aitrader train --walk-forward K`: one model per fold of an expanding window, each evaluated on its own test
/// block, and the test predictions of all folds pooled in time order. The pooled out-of-sample figures are the
/// number to quote, never a validation split (which early stopping has already looked at).
///
/// - Folds: `ChronologicalSplit.walkForwardFold` on the run's samples; the first test block starts after the
///   `splits.train` share, each fold validates on the `validation / (train + validation)` tail of the samples
///   before its block; purge and embargo at every boundary; each fold's scaler is fitted on its training rows only.
/// - Training: the same `Trainer` per fold, config `walk_forward: {fold, folds}` (recorded in its checkpoints, so
///   `aitrader evaluate` re-derives the fold), checkpoints in `<checkpoint-dir>/fold-<k>/`, seed `seed + k`.
/// - Evaluation: each fold's best checkpoint (`last` when no epoch improved) by `Evaluation` on its test block
///   (files in `fold-<k>/evaluation/`); pooled figures over all folds' test samples with the same bootstrap.
///   Nothing here reads a test block before that fold's training is over, and nothing is chosen on test figures.
///
///     let wf = WalkForward(config: config, bars: bars, folds: 3, evaluation: .init(commission: 0.0002))
///     let result = try wf.run(backend: .cpu)               // trains, evaluates, pools
///     try result.write(to: config.checkpointDirectory)     // walk_forward.json
///     print(result.table)
public struct WalkForward: Sendable {
    public let config: TrainingConfig
    public let bars: BarSeries
    public let folds: Int
    public let evaluation: Evaluation.Options

    public init(config: TrainingConfig, bars: BarSeries, folds: Int, evaluation: Evaluation.Options) {
        self.config = config
        self.bars = bars
        self.folds = folds
        self.evaluation = evaluation
    }

    /// Fold `k`'s training config: `walk_forward`, its own checkpoint directory and seed.
    public static func foldConfig(_ base: TrainingConfig, fold k: Int, of folds: Int) -> TrainingConfig {
        var c = base
        c.walkForward = .init(fold: k, folds: folds)
        c.checkpointDirectory = base.checkpointDirectory + "/fold-\(k)"
        c.seed = base.seed &+ UInt64(k)
        return c
    }

    /// Every fold's plan, checked before anything trains: at least two folds, and in every fold at least one batch
    /// of training samples and a non-empty validation tail and test block after purge and embargo.
    public func plans() throws(TrainingError) -> [TrainingPlan] {
        guard folds >= 2 else { throw .data("walk-forward needs at least 2 folds, got \(folds)") }
        var plans: [TrainingPlan] = []
        for k in 0..<folds {
            let plan: TrainingPlan
            do { plan = try TrainingPlan(config: Self.foldConfig(config, fold: k, of: folds), bars: bars) } catch {
                throw .data("walk-forward fold \(k) of \(folds): \(error)")
            }
            let s = plan.dataset.split
            let embargo = config.embargo ?? plan.label.horizon
            guard s.train.count >= config.batchSize, !s.validation.isEmpty, !s.test.isEmpty else {
                throw .data("\(plan.symbol) \(plan.timeframe) (\(bars.count) bars, \(plan.dataset.samples.count) samples) is too short for "
                    + "\(folds) walk-forward folds: fold \(k) has \(s.train.count) training samples (batch size \(config.batchSize)), "
                    + "\(s.validation.count) validation and \(s.test.count) test samples after purging (horizon \(plan.label.horizon)) "
                    + "and the embargo (\(embargo)); use fewer folds, more bars, a smaller batch size or embargo")
            }
            plans.append(plan)
        }
        return plans
    }

    /// One fold after training: its summary line for walk_forward.json and what pooling needs.
    public struct EvaluatedFold: Sendable {
        public var fold: WalkForwardResult.Fold
        public var samples: [EvaluatedSample]
        public var forecasts: [Forecast]
        public var annualization: Double
        public var evaluation: EvaluationResult
    }

    /// Evaluates fold `k` (trained under `plan`, finished with `summary`) on its test block and writes its evaluation
    /// files into `<fold dir>/evaluation/`.
    public func evaluate(fold k: Int, plan: TrainingPlan, summary: TrainingSummary, backend: Backend) throws(TrainingError) -> EvaluatedFold {
        let path = summary.best ?? summary.last
        let contents: Checkpoint.Contents
        do { contents = try Checkpoint.read(path) } catch { throw .checkpoint(path: path, message: error.description) }
        var options = evaluation
        options.part = .test
        let (result, forecasts) = try Evaluation(options: options).evaluate(contents, bars: bars, backend: backend)
        try EvaluationFiles.write(result, to: plan.config.checkpointDirectory + "/evaluation")
        let d = plan.dataset
        func range(_ s: [Int]) -> WalkForwardResult.Range {
            .init(samples: s.count, start: s.first.map { UTCTime.iso8601(d.timestamps[$0]) } ?? "",
                  end: s.last.map { UTCTime.iso8601(d.timestamps[$0]) } ?? "")
        }
        let relative = "fold-\(k)/" + (path as NSString).lastPathComponent
        let fold = WalkForwardResult.Fold(
            fold: k, seed: plan.config.seed, checkpoint: relative, train: range(d.split.train),
            validation: range(d.split.validation), test: range(d.split.test), epochsRun: summary.epochsRun,
            bestEpoch: summary.bestEpoch.map { $0 + 1 }, bestValidationLoss: summary.bestValidationLoss,
            trainBaseRate: result.trainBaseRate, metrics: result.metrics, pairedTests: result.pairedTests, trading: result.trading)
        return EvaluatedFold(fold: fold, samples: result.predictions, forecasts: forecasts, annualization: result.annualization,
                             evaluation: result)
    }

    /// Pools the folds' test samples (concatenated in fold order, which is time order) and each forecast's p.
    public func pool(_ evaluated: [EvaluatedFold], plan: TrainingPlan) throws(TrainingError) -> WalkForwardResult {
        guard let first = evaluated.first else { throw .data("no walk-forward folds to pool") }
        let samples = evaluated.flatMap(\.samples)
        for (a, b) in zip(samples, samples.dropFirst()) where a.timestamp >= b.timestamp {
            throw .data("walk-forward test blocks overlap or are out of order at \(UTCTime.iso8601(b.timestamp))")
        }
        var forecasts = first.forecasts
        for i in forecasts.indices {
            forecasts[i].p = evaluated.flatMap { $0.forecasts[i].p }
            forecasts[i].positions = forecasts[i].positions == nil ? nil : evaluated.flatMap { $0.forecasts[i].positions ?? [] }
        }
        var options = evaluation
        options.part = .test
        let f = Evaluation(options: options).figures(model: forecasts[0], baselines: Array(forecasts.dropFirst()), samples: samples,
                                                     annualization: first.annualization)
        let pooled = WalkForwardResult.Pooled(
            samples: samples.count, days: f.days, start: UTCTime.iso8601(samples[0].timestamp),
            end: UTCTime.iso8601(samples[samples.count - 1].timestamp), metrics: f.metrics, pairedTests: f.pairedTests,
            reliability: f.reliability, trading: f.trading)
        return WalkForwardResult(
            modelType: config.modelType.rawValue, symbol: plan.symbol, timeframe: plan.timeframe.rawValue, folds: evaluated.count,
            labelHorizon: plan.label.horizon, embargo: config.embargo ?? plan.label.horizon, initialShare: config.trainFraction,
            validationShare: config.validationFraction / (config.trainFraction + config.validationFraction), seed: config.seed,
            resamples: options.resamples, bootstrapSeed: options.seed, commission: options.commission,
            annualization: first.annualization, perFold: evaluated.map(\.fold), pooled: pooled)
    }

    /// Trains every fold in turn, evaluates each on its test block and pools them. `prepare` sets up each fold's
    /// trainer (callbacks) before it runs. An interrupted fold ends the run with an error naming its `last`
    /// checkpoint (walk-forward starts over; folds do not resume).
    public func run(backend: Backend, prepare: (Int, Trainer) -> Void = { _, _ in }) throws(TrainingError) -> WalkForwardResult {
        let plans = try plans()
        var evaluated: [EvaluatedFold] = []
        for (k, plan) in plans.enumerated() {
            let trainer = Trainer(plan: plan, backend: backend)
            prepare(k, trainer)
            switch try trainer.run(resume: nil) {
            case .finished(let summary):
                evaluated.append(try evaluate(fold: k, plan: plan, summary: summary, backend: backend))
            case .interrupted(let checkpoint, let epoch, let step):
                throw .failed(context: "walk-forward fold \(k) of \(folds)",
                              message: "interrupted in epoch \(epoch + 1) after step \(step) (saved \(checkpoint))")
            }
        }
        return try pool(evaluated, plan: plans[0])
    }
}
