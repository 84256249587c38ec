import Common
import Engine
import Features
import Foundation
import Models

/// Trains one horizon model on a `TrainingPlan`: AdamW with the one-cycle schedule and global-norm gradient
/// clipping, validation after every epoch, early stopping on the validation loss, the top-k checkpoints by
/// validation loss (`epoch-NNNN.safetensors`, plus `best.safetensors`) and `last.safetensors` (with the resume
/// state) in the checkpoint directory, every file written atomically.
///
/// - Determinism: weights, dropout and data order come from the config's seed, so two runs with the same config
///   and thread count write bit-identical checkpoints; a run interrupted and resumed from `last` ends with the same
///   files as an uninterrupted one.
/// - Interrupts: `shouldStop` is polled after every step; when it says stop, the step is finished, `last` is
///   written and `run` returns `.interrupted`.
/// - Non-finite values: a NaN or infinity in the loss, the outputs or the gradients stops training with
///   `TrainingError.nonFinite` naming the step and the first such tensor; nothing is written over the last good
///   checkpoint.
/// - Devices: the trainer only talks to `Backend`; which device it is never matters here.
/// - Loss: the config's `loss` (`LossConfig`): BetaNLL of the label (default), the evidential objective with its
///   annealed regulariser, or BetaNLL of the forward return's rank in the training distribution.
/// - Gradient norms: with `onGradientNorms` set, every `log_every_steps` steps the global norm before clipping and
///   one per layer group (`ParameterLayout.groups`).
/// - Calibration: after every epoch's validation, the config's `calibration` method (default `platt`) is fitted
///   on that epoch's validation predictions (p(up), label) and stored in the checkpoints of that epoch
///   (`CheckpointMetadata.calibration`), so `best` carries the calibration of the best model, fitted on the
///   validation split (the batches `max_batches_per_epoch` lets validation see). When it cannot be fitted (one
///   class only, separable predictions), the checkpoint records none (the identity) and `calibration_error` says why.
///
///     let trainer = Trainer(plan: plan, backend: try Devices.select(.auto))
///     trainer.onEpoch = { print($0.line) }
///     switch try trainer.run(resume: nil) { case .finished(let s): print(s.best ?? "-"); case .interrupted: ... }
public final class Trainer {
    public let plan: TrainingPlan
    public let backend: Backend
    /// Called after every epoch's validation.
    public var onEpoch: (EpochReport) -> Void = { _ in }
    /// Called every `log_every_steps` optimizer steps with the gradient norms before clipping (global and per layer
    /// group); nil: not computed.
    public var onGradientNorms: ((GradientNormReport) -> Void)?
    /// Polled after every optimizer step; true interrupts the run at that point.
    public var shouldStop: () -> Bool = { false }
    /// ProgressReporter of each epoch's steps on standard error (`Common.Progress`).
    public var showProgress = true

    public init(plan: TrainingPlan, backend: Backend) {
        self.plan = plan
        self.backend = backend
    }

    var config: TrainingConfig { plan.config }
    public var directory: String { config.checkpointDirectory }
    public var lastPath: String { directory + "/last.safetensors" }
    public var bestPath: String { directory + "/best.safetensors" }

    /// Optimizer steps per epoch: every training batch (the last one may be smaller), at most
    /// `max_batches_per_epoch`.
    public var batchesPerEpoch: Int {
        let all = (plan.dataset.split.train.count + config.batchSize - 1) / config.batchSize
        return min(all, config.maxBatchesPerEpoch ?? all)
    }

    /// A run id fixed by the configuration and seed (so repeated runs write identical files).
    public var runID: String {
        let hash = DeterministicWeights.fnv1a64(TrainingPlan.fingerprint(config) + "|\(plan.symbol)|\(plan.timeframe)")
        return "\(config.modelType.rawValue)-\(String(hash, radix: 16))"
    }

    // MARK: running

    /// Trains from scratch, or from the `last` checkpoint at `resume`, until the last epoch, early stopping or an
    /// interrupt.
    public func run(resume: String? = nil) throws(TrainingError) -> TrainingOutcome {
        let model: any HorizonModel
        do { model = try HorizonModels.make(plan.modelConfiguration, backend: backend, seed: config.seed) }
        catch { throw .failed(context: "building the \(config.modelType) model", message: error.description) }
        model.context.resetDropout(seed: config.seed &+ 0x5DEECE66D)
        let optimizer: AdamW
        do { optimizer = try AdamW(model.parameters, learningRate: Float(config.learningRate), weightDecay: Float(config.weightDecay)) }
        catch { throw .failed(context: "AdamW", message: error.description) }
        let totalSteps = config.epochs * batchesPerEpoch
        let schedule: OneCycleLR
        do { schedule = try OneCycleLR(maxLearningRate: config.learningRate, totalSteps: totalSteps) }
        catch { throw .failed(context: "OneCycleLR", message: error.description) }

        var state = ResumeState()
        if let resume { state = try restore(from: resume, model: model, optimizer: optimizer) }
        if state.finished { return .finished(summary(state)) }
        try createDirectory()
        let lossConfig = config.lossConfig
        let loss = TradingLoss(objective: lossConfig.objective)
        let ranks = lossConfig.kind == .betaNLLRank ? ReturnRanks(dataset: plan.dataset) : nil
        let batchSize = config.batchSize, perEpoch = batchesPerEpoch
        var lastGood: String? = resume

        while state.epoch < config.epochs {
            let epoch = state.epoch
            model.training = true
            var progress = showProgress
                ? ProgressReporter("train \(config.modelType) epoch \(epoch + 1)/\(config.epochs)", total: perEpoch, unit: "batches")
                : ProgressReporter.disabled
            progress.update(done: state.batch)
            let started = ContinuousClock.now
            var samplesThisRun = 0
            var index = 0
            var interrupted = false
            loss.evidenceRegularizer = lossConfig.evidenceRegularizer(epoch: epoch)
            do {
                try plan.dataset.forEachBatch(.train, batchSize: batchSize, seed: config.seed, epoch: epoch) { batch in
                    defer { index += 1 }
                    guard !interrupted, index >= state.batch, index < perEpoch else { return }
                    let value = try self.step(batch, model: model, loss: loss, optimizer: optimizer, schedule: schedule,
                                              state: state, lastGood: lastGood, ranks: ranks)
                    state.step += 1
                    state.batch = index + 1
                    state.trainLossSum += Double(value) * Double(batch.count)
                    state.trainSamples += batch.count
                    samplesThisRun += batch.count
                    progress.step()
                    if self.shouldStop() { interrupted = true }
                }
            } catch let error as TrainingError { throw error } catch { throw .failed(context: "training step", message: "\(error)") }
            progress.finish()
            let seconds = Self.seconds(since: started)
            if interrupted {
                state.adamSteps = optimizer.stepCount
                state.dropoutOffset = model.context.dropoutOffset
                try save(model, optimizer: optimizer, state: state, to: lastPath, extra: [:])
                return .interrupted(checkpoint: lastPath, epoch: epoch, step: state.step)
            }
            let trainLoss = state.trainSamples > 0 ? state.trainLossSum / Double(state.trainSamples) : .nan
            let validation = try validate(model, loss: loss, step: state.step, epoch: epoch, lastGood: lastGood, ranks: ranks)

            // Early stopping and checkpoints.
            let improved = state.bestLoss.map { validation.loss < $0 - config.minDelta } ?? true
            if improved {
                state.bestLoss = validation.loss
                state.bestEpoch = epoch
                state.badEpochs = 0
            } else {
                state.badEpochs += 1
            }
            state.epoch = epoch + 1
            state.batch = 0
            state.trainLossSum = 0
            state.trainSamples = 0
            state.adamSteps = optimizer.stepCount
            state.dropoutOffset = model.context.dropoutOffset
            if state.badEpochs >= config.patience { state.finished = true; state.stoppedEarly = true }
            if state.epoch == config.epochs { state.finished = true }

            var extra = [
                "epoch": String(epoch + 1), "step": String(state.step), "train_loss": "\(trainLoss)",
                "val_loss": "\(validation.loss)", "val_accuracy": "\(validation.accuracy)",
            ]
            var calibration: ProbabilityCalibration?
            do { calibration = try ProbabilityCalibration.fit(config.calibrationMethod, p: validation.p, y: validation.y) }
            catch { extra["calibration_error"] = error.description }
            var saved: [String] = []
            if config.saveTopK > 0, state.topK.count < config.saveTopK || validation.loss < state.topK.last!.loss {
                let file = String(format: "epoch-%04d.safetensors", epoch + 1)
                try save(model, optimizer: nil, state: nil, to: directory + "/" + file, extra: extra, calibration: calibration)
                saved.append(file)
                state.topK.append(.init(loss: validation.loss, epoch: epoch, file: file))
                state.topK.sort { ($0.loss, $0.epoch) < ($1.loss, $1.epoch) }
                while state.topK.count > config.saveTopK {
                    let dropped = state.topK.removeLast()
                    unlink(directory + "/" + dropped.file)
                }
            }
            if improved {
                try save(model, optimizer: nil, state: nil, to: bestPath, extra: extra, calibration: calibration)
                saved.append("best.safetensors")
            }
            try save(model, optimizer: optimizer, state: state, to: lastPath, extra: extra, calibration: calibration)
            lastGood = lastPath
            onEpoch(EpochReport(epoch: epoch, epochs: config.epochs, trainLoss: trainLoss, validationLoss: validation.loss,
                                validationAccuracy: validation.accuracy,
                                samplesPerSecond: seconds > 0 ? Double(samplesThisRun) / seconds : 0,
                                learningRate: Double(optimizer.learningRate), improved: improved, saved: saved,
                                stoppingEarly: state.stoppedEarly))
            if state.finished { break }
        }
        return .finished(summary(state))
    }

    /// One optimizer step on `batch`; returns the batch's loss. Every `log_every_steps` steps (when `onGradientNorms`
    /// is set) also the gradient norms per layer group (`GradientNorms`, read-only: the weights are the same either way).
    func step(_ batch: TrainingDataset.Batch, model: any HorizonModel, loss: TradingLoss, optimizer: AdamW,
              schedule: OneCycleLR, state: ResumeState, lastGood: String?, ranks: ReturnRanks? = nil) throws(TrainingError) -> Float {
        let tensors: BatchTensors
        do { tensors = try BatchTensors(batch, dataset: plan.dataset, configuration: plan.modelConfiguration, backend: backend,
                                        ranks: ranks) }
        catch { throw .failed(context: "step \(state.step + 1): batch tensors", message: error.description) }
        func nonFinite(_ output: ModelOutput?) -> TrainingError {
            .nonFinite(step: state.step + 1, epoch: state.epoch,
                       tensor: Self.firstNonFinite(tensors, output: output, parameters: model.parameters), lastGood: lastGood)
        }
        do {
            return try Self.optimize(model: model, input: tensors.input, targets: tensors.targets, loss: loss,
                                     optimizer: optimizer, schedule: schedule, step: state.step,
                                     gradientClip: Float(config.gradientClip)) { parts, clip, output in
                guard parts.total.isFinite, clip?.norm.isFinite ?? true else { throw nonFinite(output) }
                if let clip, let report = onGradientNorms, (state.step + 1) % config.gradientLogInterval == 0 {
                    report(GradientNormReport(step: state.step + 1, epoch: state.epoch, global: Double(clip.norm),
                                              groups: try GradientNorms.perGroup(model.parameters)))
                }
            }.total
        } catch let error as TrainingError {
            throw error
        } catch {
            throw .failed(context: "step \(state.step + 1)", message: "\(error)")
        }
    }

    /// The arithmetic of one training step, shared by `step` and the loss-trajectory test against PyTorch
    /// (`Tests/TrainingTests/LossTrajectoryTests.swift`): zero the gradients, forward, `loss`, backward, the global
    /// gradient norm and its clipping scale min(1, clip / (norm + 1e-6)), the schedule's learning rate and beta1 of
    /// step `step` (0-based), the AdamW update with the scale applied to the gradients. `check` sees the loss (clip
    /// nil) after the forward pass and again with the norm after the backward pass, before anything is updated:
    /// throwing from it leaves the weights as they were. Returns the loss of the batch under the weights before
    /// the update.
    static func optimize(model: any HorizonModel, input: ModelInput, targets: TradingTargets, loss: TradingLoss,
                         optimizer: AdamW, schedule: OneCycleLR, step: Int, gradientClip: Float,
                         check: (TradingLoss.Breakdown, GradientClipping.Result?, ModelOutput) throws -> Void = { _, _, _ in })
        throws -> TradingLoss.Breakdown {
        try model.parameters.zeroGradients()
        let output = try model.forward(input)
        let parts = try loss.forward(output, targets: targets)
        try check(parts, nil, output)
        try model.backward(try loss.backward())
        let clip = try GradientClipping.scale(model.parameters, maxNorm: gradientClip)
        try check(parts, clip, output)
        try schedule.apply(to: optimizer, step: step)
        try optimizer.step(gradientScale: clip.scale)
        return parts
    }

    /// Mean validation loss (per sample), direction accuracy (P(up) > 0.5 against the label) and every sample's
    /// raw p(up) and label (1 up, 0 down), in inference mode.
    /// The loss is the run's objective at its full weight (evidential: λ = evidence_regularizer, not the annealed
    /// one), so every epoch's validation loss is on the same scale.
    func validate(_ model: any HorizonModel, loss: TradingLoss, step: Int, epoch: Int, lastGood: String?,
                  ranks: ReturnRanks? = nil) throws(TrainingError) -> (loss: Double, accuracy: Double, p: [Double], y: [Int]) {
        model.training = false
        let trainingRegularizer = loss.evidenceRegularizer
        loss.evidenceRegularizer = config.lossConfig.validationRegularizer
        defer { model.training = true; loss.evidenceRegularizer = trainingRegularizer }
        var sum = 0.0, correct = 0, count = 0, index = 0
        var ps: [Double] = [], ys: [Int] = []
        let limit = config.maxBatchesPerEpoch ?? Int.max
        do {
            try plan.dataset.forEachBatch(.validation, batchSize: config.batchSize) { batch in
                defer { index += 1 }
                guard index < limit else { return }
                let tensors = try BatchTensors(batch, dataset: plan.dataset, configuration: plan.modelConfiguration,
                                               backend: backend, ranks: ranks)
                let output = try model.forward(tensors.input)
                let parts = try loss.forward(output, targets: tensors.targets)
                guard parts.total.isFinite else {
                    throw TrainingError.nonFinite(step: step, epoch: epoch,
                                                  tensor: "validation: " + Self.firstNonFinite(tensors, output: output, parameters: model.parameters),
                                                  lastGood: lastGood)
                }
                let alpha = try output.prediction.alpha.toArray(), beta = try output.prediction.beta.toArray()
                for i in 0 ..< batch.count {
                    let up = alpha[i] / (alpha[i] + beta[i]) > 0.5
                    if up == (batch.direction[i] == 1) { correct += 1 }
                    ps.append(Double(alpha[i]) / (Double(alpha[i]) + Double(beta[i])))
                    ys.append(batch.direction[i] == 1 ? 1 : 0)
                }
                sum += Double(parts.total) * Double(batch.count)
                count += batch.count
            }
        } catch let error as TrainingError { throw error } catch { throw .failed(context: "validation", message: "\(error)") }
        guard count > 0 else { throw .data("no validation samples") }
        return (sum / Double(count), Double(correct) / Double(count), ps, ys)
    }

    /// Names the first tensor holding a NaN or infinity: the inputs, then the outputs, then every parameter's
    /// gradient, then every parameter, in layout order.
    static func firstNonFinite(_ tensors: BatchTensors, output: ModelOutput?, parameters: ParameterStore) -> String {
        func bad(_ t: Tensor?) -> Bool { (try? t?.toArray().contains { !$0.isFinite }) ?? false }
        if bad(tensors.input.features) { return "input features" }
        if bad(tensors.input.close) { return "input close" }
        if let output {
            for (name, t) in output.namedTensors where bad(t) { return "output \(name)" }
        }
        if let g = try? parameters.gradients?.toArray() {
            for spec in parameters.layout.specs where g[spec.offset ..< spec.offset + spec.count].contains(where: { !$0.isFinite }) {
                return "gradient of \(spec.name)"
            }
        }
        if let v = try? parameters.values.toArray() {
            for spec in parameters.layout.specs where v[spec.offset ..< spec.offset + spec.count].contains(where: { !$0.isFinite }) {
                return "parameter \(spec.name)"
            }
        }
        return "the loss (every input, output and gradient is finite)"
    }

    // MARK: checkpoints

    func createDirectory() throws(TrainingError) {
        do { try AtomicFile.createDirectories(directory) }
        catch { throw .checkpoint(path: directory, message: error.reason) }
    }

    /// Writes a checkpoint atomically: the model with the run's metadata and calibration, and for `last` the
    /// optimizer moments and the resume state.
    func save(_ model: any HorizonModel, optimizer: AdamW?, state: ResumeState?, to path: String,
              extra: [String: String], calibration: ProbabilityCalibration? = nil) throws(TrainingError) {
        var metadata = CheckpointMetadata(featureNames: plan.dataset.featureNames, scaler: plan.dataset.scaler, runID: runID,
                                          calibration: calibration)
        metadata.extra = plan.provenance.merging(extra) { _, new in new }
        do {
            var file = try Checkpoint.file(of: model, metadata: metadata, path: path)
            if let optimizer, let state {
                file.tensors[ResumeState.mTensor] = SafetensorsTensor(shape: [optimizer.m.count], floats: try optimizer.m.toArray())
                file.tensors[ResumeState.vTensor] = SafetensorsTensor(shape: [optimizer.v.count], floats: try optimizer.v.toArray())
                file.metadata[ResumeState.metadataKey] = state.json()
            }
            try file.write(to: path)
        } catch let error as ModelError {
            throw .checkpoint(path: path, message: error.description)
        } catch {
            throw .checkpoint(path: path, message: "\(error)")
        }
    }

    /// Loads weights, optimizer moments and the resume state from a run's `last` checkpoint, refusing one written
    /// by another training configuration.
    func restore(from path: String, model: any HorizonModel, optimizer: AdamW) throws(TrainingError) -> ResumeState {
        let contents: Checkpoint.Contents
        do { contents = try Checkpoint.read(path) } catch { throw .checkpoint(path: path, message: error.description) }
        let extra = contents.metadata.extra
        guard let stateText = extra[ResumeState.metadataKey], let m = contents.file.tensors[ResumeState.mTensor],
              let v = contents.file.tensors[ResumeState.vTensor] else {
            throw .checkpoint(path: path, message: "has no resume state (only a run's last.safetensors has one)")
        }
        let expected = TrainingPlan.fingerprint(config)
        if let recorded = extra["training_config"], recorded != expected {
            throw .checkpoint(path: path, message: "was written by another training configuration; resume with the same one "
                + "(\(Self.firstDifference(recorded, expected)))")
        }
        do { try contents.checkFeatures(plan.dataset.featureNames) } catch { throw .checkpoint(path: path, message: error.description) }
        if let scaler = contents.metadata.scaler, scaler != plan.dataset.scaler {
            throw .checkpoint(path: path, message: "its scaler differs from the one fitted on this run's data (different bars?)")
        }
        let state: ResumeState
        do { state = try ResumeState.parse(stateText) } catch { throw .checkpoint(path: path, message: "bad training_state: \(error)") }
        do {
            try Checkpoint.restore(model, from: contents)
            try optimizer.restore(m: try m.floats(source: path, name: ResumeState.mTensor),
                                  v: try v.floats(source: path, name: ResumeState.vTensor), stepCount: state.adamSteps)
        } catch let error as ModelError {
            throw .checkpoint(path: path, message: error.description)
        } catch {
            throw .checkpoint(path: path, message: "\(error)")
        }
        model.context.resetDropout(seed: model.context.dropoutSeed, offset: state.dropoutOffset)
        return state
    }

    static func firstDifference(_ a: String, _ b: String) -> String {
        guard let da = try? JSONSerialization.jsonObject(with: Data(a.utf8)) as? [String: Any],
              let db = try? JSONSerialization.jsonObject(with: Data(b.utf8)) as? [String: Any] else { return "" }
        for key in Set(da.keys).union(db.keys).sorted() where "\(da[key] ?? "none")" != "\(db[key] ?? "none")" {
            return "\(key): checkpoint \(da[key] ?? "none"), now \(db[key] ?? "none")"
        }
        return ""
    }

    func summary(_ state: ResumeState) -> TrainingSummary {
        TrainingSummary(directory: directory, last: lastPath, best: state.bestLoss == nil ? nil : bestPath,
                        bestValidationLoss: state.bestLoss, bestEpoch: state.bestEpoch, epochsRun: state.epoch,
                        steps: state.step, stoppedEarly: state.stoppedEarly,
                        topK: state.topK.map { directory + "/" + $0.file })
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
