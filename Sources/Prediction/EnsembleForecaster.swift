import Common
import Models

/// What the trading robot and the backtester ask of the ensemble.
///
/// - `predict(symbols:asOf:)`: one prediction per symbol at the decision time `asOf` (UTC ms; nil = now): each model
///   sees only bars closed at or before it; the symbols go through each model as one batch.
/// - `predictSeries(symbol:from:to:)`: one prediction per closed bar of the finest timeframe whose close time is in
///   [from, to], computed in batches; each equals `predict(symbols: [symbol], asOf: that close time)` (see
///   `EnsemblePredictor` for the float32 bound).
/// - `recordOutcome`: the realised return of a prediction's horizon, scored against every model's vote; it feeds
///   the dynamic weights of later predictions (`DynamicWeightCalculator`).
public protocol EnsembleForecaster: Sendable {
    func predict(symbols: [String], asOf: Int64?) throws -> [EnsemblePrediction]
    func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double)
    func predictSeries(symbol: String, from: Int64, to: Int64) throws -> [EnsemblePrediction]
}
