import Models
import Prediction

/// Where the robot's predictions come from at a bar close. Live and simulated robots ask the forecaster
/// (`ForecasterPredictions`, bar by bar, only closed bars); backtests read predictions computed in one batch
/// beforehand (`PrecomputedPredictions`) — the same values (tested), so a backtest decides as the live robot would.
public protocol PredictionSource: Sendable {
    /// The predictions for `symbols` at the decision time `time` (symbols without one are left out).
    func predictions(symbols: [String], at time: Int64) throws -> [String: EnsemblePrediction]
    /// The realised return of the bar after a prediction (feeds the ensemble's accuracy-based weights).
    func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double)
}

/// Predictions from a forecaster at each decision time (the live path).
public struct ForecasterPredictions: PredictionSource {
    public let forecaster: any EnsembleForecaster

    public init(_ forecaster: any EnsembleForecaster) { self.forecaster = forecaster }

    public func predictions(symbols: [String], at time: Int64) throws -> [String: EnsemblePrediction] {
        let list = try forecaster.predict(symbols: symbols, asOf: time)
        return Dictionary(list.map { ($0.symbol, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double) {
        forecaster.recordOutcome(symbol: symbol, prediction: prediction, realizedReturn: realizedReturn)
    }
}

/// Predictions computed beforehand in one batch (the backtest path), looked up by symbol and decision time. With
/// a predictor, each is re-weighted with the outcomes recorded so far and outcomes go back to it — what
/// `predict(asOf:)` would have returned at that point (`EnsemblePredictor.reweight`). `failures` replays a
/// recorded session's failed prediction calls (bar close → what failed), so its stale-data handling replays too.
public struct PrecomputedPredictions: PredictionSource {
    public let bySymbol: [String: [Int64: EnsemblePrediction]]
    public let failures: [Int64: String]
    let predictor: EnsemblePredictor?

    public init(_ predictions: [EnsemblePrediction], predictor: EnsemblePredictor? = nil, failures: [Int64: String] = [:]) {
        var d: [String: [Int64: EnsemblePrediction]] = [:]
        for p in predictions { d[p.symbol, default: [:]][p.time] = p }
        bySymbol = d
        self.predictor = predictor
        self.failures = failures
    }

    /// A prediction call that failed when the session was recorded.
    public struct RecordedFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public func predictions(symbols: [String], at time: Int64) throws -> [String: EnsemblePrediction] {
        if let failure = failures[time] { throw RecordedFailure(description: failure) }
        var out: [String: EnsemblePrediction] = [:]
        for s in symbols {
            guard let p = bySymbol[s]?[time] else { continue }
            out[s] = predictor?.reweight(p) ?? p
        }
        return out
    }

    public func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double) {
        predictor?.recordOutcome(symbol: symbol, prediction: prediction, realizedReturn: realizedReturn)
    }
}
