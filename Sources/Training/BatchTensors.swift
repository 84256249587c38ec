import Engine
import Features
import Foundation
import Models

/// Where features meet models: one `TrainingDataset.Batch` (host floats) as the model's `ModelInput` and the loss's
/// `TradingTargets` on the training backend — features (B, L, F); long_term's close (B, L) as ln(close / last
/// close); the loss's targets (B): the direction labels, or with `ranks` (loss `beta_nll_rank`) the forward
/// return's rank in the training distribution; long_term's forecast targets (B, H), the realised ln(c[t+k] / c[t]) for
/// k = 1...H (H ≤ the label horizon, so no target reaches past the purged label window).
///
///     try data.forEachBatch(.train, batchSize: 64) { batch in
///         let t = try BatchTensors(batch, dataset: data, configuration: config, backend: backend)
///         let out = try model.forward(t.input)
///     }
struct BatchTensors {
    let input: ModelInput
    let targets: TradingTargets

    init(_ batch: TrainingDataset.Batch, dataset: TrainingDataset, configuration: ModelConfiguration,
         backend: Backend, ranks: ReturnRanks? = nil) throws(EngineError) {
        let b = batch.count, l = batch.window, f = batch.features
        let features = try Tensor(Array(batch.inputs), shape: [b, l, f], on: backend)
        var close: Tensor? = nil
        if configuration.modelType.needsClose { close = try Tensor(Array(batch.close), shape: [b, l], on: backend) }
        input = ModelInput(features: features, close: close)
        let labels = try Tensor(ranks.map { r in batch.forwardReturn.map(r.rank) } ?? Array(batch.direction), shape: [b], on: backend)
        var forecast: Tensor? = nil
        if case .longTerm(let c) = configuration {
            let h = c.forecastHorizon
            var path = [Float](repeating: 0, count: b * h)
            for (i, t) in batch.bars.enumerated() {
                for k in 1 ... h { path[i * h + k - 1] = Float(log(dataset.close[t + k] / dataset.close[t])) }
            }
            forecast = try Tensor(path, shape: [b, h], on: backend)
        }
        targets = TradingTargets(labels: labels, forecast: forecast)
    }
}
