import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Simulation

/// Evaluates a trained checkpoint on one split of the data it was trained on, re-derived exactly as its metadata
/// says: the training configuration (`training_config`: feature set, splits, embargo), the label, the bars' range
/// (`data_range.bars`), the model's window, and the scaler saved in the checkpoint. The feature set must be the
/// one the checkpoint records (same names and order, same `feature_config_hash`), and the re-derived splits must
/// start and end where training recorded them; anything else is an error naming the difference.
///
/// Figures (`ClassificationMetrics`) for the model and the `Baselines`, each with a 95 % day-block bootstrap interval
/// (`DayBlockBootstrap`, the same resamples for every forecast), paired tests of the model against the best
/// baseline on accuracy and log loss, and simulated trading (`SignalBacktest`) of the model (sign and
/// confidence-scaled positions) and the baselines.
///
/// Raw and calibrated: `model` is the network's raw p(up) = alpha / (alpha + beta); `model_calibrated` is that p
/// through the checkpoint's `ProbabilityCalibration` (fitted by training on the validation split; the identity for
/// checkpoints without one), with the same figures, a second reliability diagram and its own simulated trading.
///
///     let contents = try Checkpoint.read("checkpoints/short_term/best.safetensors")
///     let bars = try Evaluation.bars(for: contents, store: store)
///     let result = try Evaluation(options: .init(commission: 0.0002)).run(contents, bars: bars, backend: .cpu)
///     try EvaluationFiles.write(result, to: "evaluation/short_term")
public struct Evaluation: Sendable {
    public struct Options: Sendable {
        public var part: TrainingDataset.Part = .test
        public var resamples = 1000
        public var seed: UInt64 = 20_240_501
        /// Fraction of traded value per position change (configs/simulation.yaml's `fraction` commission).
        public var commission: Double
        /// L2 strength of the logistic baseline.
        public var lambda = 1.0
        public var batchSize = 256

        public init(part: TrainingDataset.Part = .test, commission: Double = 0, resamples: Int = 1000, seed: UInt64 = 20_240_501) {
            self.part = part
            self.commission = commission
            self.resamples = resamples
            self.seed = seed
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    // MARK: re-deriving the data

    /// The training configuration a checkpoint records.
    public static func trainingConfig(_ contents: Checkpoint.Contents) throws(TrainingError) -> TrainingConfig {
        guard let text = contents.metadata.extra["training_config"] else {
            throw .checkpoint(path: contents.path, message: "records no training_config (not written by `aitrader train`); cannot re-derive its data")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(TrainingConfig.self, from: Data(text.utf8)) }
        catch { throw .checkpoint(path: contents.path, message: "metadata 'training_config' is not valid: \(error)") }
    }

    /// The label a checkpoint records.
    public static func label(_ contents: Checkpoint.Contents) throws(TrainingError) -> LabelSpec {
        guard let text = contents.metadata.extra["label"] else { throw .checkpoint(path: contents.path, message: "records no label") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            let l = try decoder.decode(TrainingConfig.LabelConfig.self, from: Data(text.utf8))
            guard l.horizon >= 1, l.deadZone >= 0 else { throw TrainingError.data("horizon \(l.horizon), dead zone \(l.deadZone)") }
            return LabelSpec(horizon: l.horizon, deadZone: l.deadZone)
        } catch { throw .checkpoint(path: contents.path, message: "metadata 'label' is not valid: \(error)") }
    }

    /// `data_range`: ISO-8601 first and last times of the bars and of each split's samples.
    public static func dataRange(_ contents: Checkpoint.Contents) throws(TrainingError) -> [String: [String]] {
        guard let text = contents.metadata.extra["data_range"],
              let range = try? JSONDecoder().decode([String: [String]].self, from: Data(text.utf8)) else {
            throw .checkpoint(path: contents.path, message: "records no valid data_range; cannot re-derive its data")
        }
        return range
    }

    /// The checkpoint's symbol at its timeframe from the store (`dataset` cuts them to the bars it was trained on).
    public static func bars(for contents: Checkpoint.Contents, store: ParquetBarStore) throws(TrainingError) -> BarSeries {
        let meta = contents.metadata.extra
        guard let symbol = meta["symbol"], let tfText = meta["timeframe"], let timeframe = try? Timeframe(parsing: tfText) else {
            throw .checkpoint(path: contents.path, message: "records no valid symbol and timeframe")
        }
        return try TrainingBars.load(store: store, symbol: symbol, timeframe: timeframe,
                                     purpose: "evaluating \(contents.path) (\(contents.modelType.rawValue))")
    }

    /// `bars` restricted to the recorded `data_range.bars` (bars imported after training are left out).
    static func cut(_ bars: BarSeries, to range: [String: [String]], path: String) throws(TrainingError) -> BarSeries {
        guard let r = range["bars"], r.count == 2 else { throw .checkpoint(path: path, message: "data_range has no bars range") }
        let iso = bars.timestamps.array.map(UTCTime.iso8601)
        guard let a = iso.firstIndex(of: r[0]), let b = iso.lastIndex(of: r[1]), a <= b else {
            throw .data("the store no longer holds the bars \(path) was trained on (\(r[0]) … \(r[1]))")
        }
        return a == 0 && b == bars.count - 1 ? bars : bars[a ..< (b + 1)]
    }

    /// The dataset the checkpoint was trained on, from `bars` cut to the recorded range, scaled with its saved scaler.
    public static func dataset(_ contents: Checkpoint.Contents, bars all: BarSeries) throws(TrainingError) -> TrainingDataset {
        let path = contents.path
        let range = try dataRange(contents)
        let bars = try cut(all, to: range, path: path)
        let config = try trainingConfig(contents)
        let featureSet: FeatureSet
        do { featureSet = try FeatureSet.load(path: config.featuresPath) }
        catch { throw .config(location: config.featuresPath, key: "features", message: error.reason) }
        do { try contents.checkFeatures(featureSet.names) } catch { throw .checkpoint(path: path, message: error.description) }
        if let hash = contents.metadata.extra["feature_config_hash"], hash != featureSet.configHash {
            throw .checkpoint(path: path, message: "was trained on another version of \(config.featuresPath) (feature_config_hash "
                + "\(hash), the file now \(featureSet.configHash)); its features would differ")
        }
        guard let scaler = contents.metadata.scaler else { throw .checkpoint(path: path, message: "records no scaler") }
        let label = try Self.label(contents)
        let dataset: TrainingDataset
        do {
            dataset = try TrainingDataset(frame: featureSet.compute(bars), close: bars.close.array, high: bars.high.array,
                                          low: bars.low.array, label: label, window: contents.configuration.sequenceLength,
                                          fractions: (config.trainFraction, config.validationFraction), embargo: config.embargo,
                                          scaling: config.scaling, clip: config.clip, scaler: scaler,
                                          walkForward: config.walkForward.map { ($0.fold, $0.folds) })
        } catch { throw .data("\(bars.symbol) \(bars.timeframe) (\(bars.count) bars): \(error.reason)") }
        for part in [TrainingDataset.Part.train, .validation, .test] {
            let s = dataset.samples(part)
            let derived = s.isEmpty ? [] : [UTCTime.iso8601(dataset.timestamps[s[0]]), UTCTime.iso8601(dataset.timestamps[s[s.count - 1]])]
            if let recorded = range[part.rawValue], recorded != derived {
                throw .data("the re-derived \(part.rawValue) split (\(derived.joined(separator: " … "))) differs from the one \(path) "
                    + "records (\(recorded.joined(separator: " … "))); the bars changed since training")
            }
        }
        return dataset
    }

    // MARK: running

    /// The model's Beta predictions for every sample of `part`, in time order.
    public func predict(_ contents: Checkpoint.Contents, dataset: TrainingDataset, backend: Backend) throws(TrainingError)
        -> [ConfidentPrediction]
    {
        let model: any HorizonModel
        do { model = try Checkpoint.load(contents.path, backend: backend).model }
        catch { throw .checkpoint(path: contents.path, message: error.description) }
        model.training = false
        var out: [ConfidentPrediction] = []
        do {
            try dataset.forEachBatch(options.part, batchSize: options.batchSize) { batch in
                let tensors = try BatchTensors(batch, dataset: dataset, configuration: contents.configuration, backend: backend)
                out += try model.forward(tensors.input).prediction.confident()
            }
        } catch { throw .failed(context: "predicting the \(options.part.rawValue) split", message: "\(error)") }
        return out
    }

    public func run(_ contents: Checkpoint.Contents, bars: BarSeries, backend: Backend) throws(TrainingError) -> EvaluationResult {
        try evaluate(contents, bars: bars, backend: backend).result
    }

    /// `run`, also returning the forecasts it compared (the model first, then the `Baselines`), one p per sample of
    /// the evaluated split: what walk-forward pools over its folds.
    func evaluate(_ contents: Checkpoint.Contents, bars: BarSeries, backend: Backend) throws(TrainingError)
        -> (result: EvaluationResult, forecasts: [Forecast])
    {
        let dataset = try Self.dataset(contents, bars: bars)
        let predictions = try predict(contents, dataset: dataset, backend: backend)
        let samples = dataset.samples(options.part)
        guard !samples.isEmpty, predictions.count == samples.count else {
            throw .data("the \(options.part.rawValue) split has no samples")
        }
        let timestamps = samples.map { dataset.timestamps[$0] }
        let calibration = contents.metadata.calibrationOrIdentity
        let rows = zip(samples, predictions).map { t, c in
            EvaluatedSample(timestamp: dataset.timestamps[t], pUp: Double(c.rawProbability),
                            pUpCalibrated: calibration.apply(Double(c.rawProbability)), alpha: Double(c.alpha), beta: Double(c.beta),
                            confidence: Double(c.confidence), label: dataset.labels.direction[t] == 1 ? 1 : 0,
                            forwardReturn: Double(dataset.labels.forwardReturn[t]), nextReturn: dataset.close[t + 1] / dataset.close[t] - 1)
        }
        let p = rows.map(\.pUp), pCalibrated = rows.map(\.pUpCalibrated)
        let baselines = Baselines(dataset: dataset, samples: samples, lambda: options.lambda)
        let model = Forecast(name: "model", p: p, probabilistic: true, directional: true, positions: SignalBacktest.signPositions(p))
        let calibrated = Forecast(name: "model_calibrated", p: pCalibrated, probabilistic: true, directional: true,
                                  positions: SignalBacktest.signPositions(pCalibrated))
        let annualization = Annualization.periodsPerYear(timeframe: bars.timeframe,
                                                         market: AssetClass.guess(symbol: bars.symbol))
        let f = figures(model: model, variants: [calibrated], baselines: baselines.forecasts, samples: rows,
                        annualization: annualization)
        let meta = contents.metadata.extra
        let result = EvaluationResult(
            checkpoint: contents.path, modelType: contents.modelType.rawValue, symbol: meta["symbol"] ?? bars.symbol,
            timeframe: meta["timeframe"] ?? bars.timeframe.rawValue, split: options.part.rawValue, samples: samples.count,
            days: f.days, start: UTCTime.iso8601(timestamps[0]), end: UTCTime.iso8601(timestamps[timestamps.count - 1]),
            labelHorizon: dataset.horizon, trainBaseRate: baselines.baseRate, resamples: options.resamples, seed: options.seed,
            commission: options.commission, annualization: annualization, metrics: f.metrics,
            calibration: calibration.method.rawValue, calibrationParameters: contents.metadata.calibration.flatMap { try? $0.json() },
            reliability: f.reliability,
            reliabilityCalibrated: ClassificationMetrics.reliability(p: pCalibrated, y: rows.map(\.label)),
            pairedTests: f.pairedTests, trading: f.trading, logistic: baselines.logistic, predictions: rows)
        return (result, [model] + baselines.forecasts)
    }

    /// The figures of one set of evaluated samples: per forecast the metrics with day-block bootstrap intervals, the
    /// paired tests of the model against the best baseline, the model's reliability bins, and the simulated trading.
    public struct Figures: Sendable {
        public var metrics: [String: [String: Estimate]]
        public var pairedTests: [PairedTest]
        public var reliability: [ClassificationMetrics.Bin]
        public var trading: [SignalBacktest]
        /// UTC days the samples span (the bootstrap's blocks).
        public var days: Int
    }

    /// `Figures` of `model` (its p, with the samples' confidence), its `variants` (the calibrated model: figures and
    /// trading, never a baseline it is tested against) and `baselines` on `samples` (time order; labels, next-bar
    /// returns and times from them), every forecast on the same bootstrap resamples.
    public func figures(model: Forecast, variants: [Forecast] = [], baselines: [Forecast], samples rows: [EvaluatedSample],
                        annualization: Double) -> Figures {
        let timestamps = rows.map(\.timestamp), y = rows.map(\.label), nextReturn = rows.map(\.nextReturn)
        let p = model.p, confidence = rows.map(\.confidence)
        let forecasts = [model] + variants + baselines
        let boot = DayBlockBootstrap(timestamps: timestamps, resamples: options.resamples, seed: options.seed)

        func figures(_ f: Forecast, _ idx: [Int]?) -> [String: Double] {
            let pp = idx.map { $0.map { f.p[$0] } } ?? f.p, yy = idx.map { $0.map { y[$0] } } ?? y
            let conf = f.name.hasPrefix("model") ? (idx.map { $0.map { confidence[$0] } } ?? confidence) : nil
            let m = ClassificationMetrics(p: pp, y: yy, confidence: conf)
            var out: [String: Double] = [:]
            if f.directional { out["accuracy"] = m.accuracy; out["precision"] = m.precision; out["recall"] = m.recall; out["f1"] = m.f1 }
            if f.probabilistic { out["log_loss"] = m.logLoss; out["brier"] = m.brier; out["ece"] = m.ece; out["mce"] = m.mce }
            if conf != nil { out["confidence_auc"] = m.confidenceAUC }
            return out
        }
        var metrics: [String: [String: Estimate]] = [:]
        var resampled: [String: [[String: Double]]] = [:]
        for f in forecasts {
            let observed = figures(f, nil)
            let draws = boot.resamples.map { figures(f, $0) }
            resampled[f.name] = draws
            var estimates: [String: Estimate] = [:]
            for (name, value) in observed {
                let (lo, hi) = DayBlockBootstrap.percentileInterval(draws.map { $0[name] ?? .nan })
                estimates[name] = Estimate(value, low: lo, high: hi)
            }
            metrics[f.name] = estimates
        }
        var tests: [PairedTest] = []
        for (figure, higherIsBetter) in [("accuracy", true), ("log_loss", false)] {
            let candidates = baselines.compactMap { f -> (String, Double)? in
                guard let v = metrics[f.name]?[figure]?.value else { return nil }
                return (f.name, v)
            }
            guard let best = candidates.max(by: { higherIsBetter ? $0.1 < $1.1 : $0.1 > $1.1 }),
                  let mine = metrics["model"]?[figure]?.value else { continue }
            let observed = mine - best.1
            let diffs = zip(resampled["model"]!, resampled[best.0]!).map { ($0[figure] ?? .nan) - ($1[figure] ?? .nan) }
            let (lo, hi) = DayBlockBootstrap.percentileInterval(diffs)
            tests.append(PairedTest(metric: figure, baseline: best.0, difference: Estimate(observed, low: lo, high: hi),
                                    pValue: Self.finite(DayBlockBootstrap.pValue(observed: observed, resampled: diffs))))
        }
        var trading = [SignalBacktest]()
        func trade(_ name: String, _ positions: [Double]) {
            var s = SignalBacktest(name: name, positions: positions, returns: nextReturn, times: timestamps,
                                   commission: options.commission, annualization: annualization)
            let steps = s.stepReturns
            let sharpe = boot.interval { rows in
                ReturnStatistics.sharpe(rows.map { steps[$0] }, riskFreePerPeriod: 0, annualization: annualization)
            }
            let mean = boot.interval { rows in rows.reduce(0) { $0 + steps[$1] } / Double(rows.count) }
            s.sharpeInterval = Estimate(s.sharpe, low: sharpe.low, high: sharpe.high)
            s.meanReturnInterval = Estimate(steps.reduce(0, +) / Double(steps.count), low: mean.low, high: mean.high)
            trading.append(s)
        }
        let modelPositions = model.positions ?? SignalBacktest.signPositions(p)
        trade("model", modelPositions)
        for v in variants { trade(v.name, v.positions ?? SignalBacktest.signPositions(v.p)) }
        trade("model_confidence_scaled", zip(modelPositions, confidence).map { $0 * $1 })
        for f in baselines { if let positions = f.positions { trade(f.name, positions) } }
        return Figures(metrics: metrics, pairedTests: tests, reliability: ClassificationMetrics.reliability(p: p, y: y),
                       trading: trading, days: boot.days)
    }

    static func finite(_ v: Double) -> Double? { v.isFinite ? v : nil }
}

