import Common
import Foundation
import MarketData
import Models
import Prediction
import Simulation
import Trading

/// The robot backtested: the ensemble's predictions for every decision time of [start, end] computed in one batch
/// (`predictSeries`), then `Backtester` driving `RobotStrategy` over the bars with `PrecomputedPredictions` — each
/// prediction re-weighted with the outcomes recorded so far, outcomes fed back as the bars close. The same strategy
/// code and the same predictions as the live robot (`TradingRobot` over `SimulationMode` with
/// `ForecasterPredictions`, tested to decide alike), the models' work done once up front.
///
///     let bars = ...                              // decision-timeframe bars, history before `start` included
///     let backtest = EnsembleBacktest(settings: RobotSettings(symbols: ["EURUSD"], profile: moderate),
///                                     config: BacktestConfig(cash: 10_000, models: models))
///     let run = try backtest.run(bars: bars, start: start, predictor: predictor)
///     run.result.finalEquity, run.history.signalsByAction, run.predictions.count
///
/// History: bars closing before `start` are history — the strategy's ATR and volatility windows read them
/// (`requiredHistory` bars at least) and the models' windows reach back into them (the store must hold enough:
/// `predictSeries` names what is missing). Nothing trades and nothing is recorded before `start`.
public struct EnsembleBacktest: Sendable {
    public var settings: RobotSettings
    /// Cash, execution models, end-of-data policy, calendars; its `start` is set by `run`.
    public var config: BacktestConfig

    public init(settings: RobotSettings, config: BacktestConfig) {
        self.settings = settings
        self.config = config
    }

    /// Bars that must close before the first decision: the volatility-spike input's trailing window
    /// (`volatilityHistory + volatilityWindow + 1` closes) and the ATR's `atrWindow`, whichever is longer — the
    /// fixed windows that make a backtest's values equal a live robot's.
    public static func requiredHistory(_ settings: RobotSettings) -> Int {
        max(settings.atrWindow, settings.volatilityHistory + settings.volatilityWindow + 1, settings.atrPeriod + 1)
    }

    /// Runs the robot over `bars` (one symbol, the predictor's decision timeframe), trading from the first bar closing
    /// at or after `start` to the last bar.
    public func run(bars: BarSeries, start: Int64, predictor: EnsemblePredictor) throws(EnsembleBacktestError) -> EnsembleBacktestRun {
        let symbol = bars.symbol
        guard settings.symbols == [symbol] else {
            throw .settings("the robot trades \(settings.symbols.joined(separator: ", ")); the bars are \(symbol)'s")
        }
        guard bars.timeframe == predictor.decisionTimeframe else {
            throw .settings("the bars are \(bars.timeframe); the ensemble decides at its finest model timeframe, "
                + "\(predictor.decisionTimeframe)")
        }
        let clock = MarketSimulator(series: [bars])
        let closes = (0..<bars.count).map { clock.closeTime(series: 0, bar: $0) }
        let history = closes.prefix { $0 < start }.count
        guard history < bars.count else {
            throw .history("no \(symbol) bar closes at or after the start \(UTCTime.iso8601(start)) (the last closes at "
                + "\(UTCTime.iso8601(closes.last!)))")
        }
        let required = Self.requiredHistory(settings)
        guard history >= required else {
            throw .history("\(history) \(symbol) \(bars.timeframe) bars close before the start \(UTCTime.iso8601(start)); "
                + "the robot needs \(required) (its ATR and volatility windows): start at \(bars.count > required ? UTCTime.iso8601(closes[required]) : "a later time") "
                + "or later, or import earlier bars")
        }
        let from = closes[history], to = closes[closes.count - 1]

        let t0 = DispatchTime.now().uptimeNanoseconds
        let predictions: [EnsemblePrediction]
        do {
            predictions = try predictor.predictSeries(symbol: symbol, from: from, to: to)
        } catch let e as PredictionError {
            throw .prediction(e)
        } catch {
            throw .prediction(.failed(context: symbol, message: "\(error)"))
        }
        let decisionTimes = Set(closes[history...])
        let matched = predictions.reduce(0) { $0 + (decisionTimes.contains($1.time) ? 1 : 0) }
        guard matched > 0 else {
            throw .prediction(.data(message: "\(symbol): none of the \(predictions.count) predictions falls on a bar close of "
                + "the traded bars (\(UTCTime.iso8601(from)) to \(UTCTime.iso8601(to)))"))
        }
        let t1 = DispatchTime.now().uptimeNanoseconds

        var strategy = RobotStrategy(settings: settings, source: PrecomputedPredictions(predictions, predictor: predictor))
        strategy.recordsHistory = true
        var c = config
        c.start = from
        let result: BacktestResult
        do {
            result = try Backtester(series: [bars], config: c).run(&strategy)
        } catch {
            throw .backtest(error)
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return EnsembleBacktestRun(result: result, history: strategy.history, predictions: predictions, historyBars: history,
                                   tradedBars: bars.count - history, decisionTimes: closes,
                                   predictionSeconds: Double(t1 - t0) / 1e9, backtestSeconds: Double(t2 - t1) / 1e9)
    }

    /// The first bar close at which the robot can decide: `requiredHistory` bars closed before it and the ensemble
    /// able to predict (every model's window filled with defined features). Found by bisection on
    /// `predict(asOf:)` (enough history stays enough); nil when even the last bar close cannot be predicted — then
    /// `lastError` is why.
    public static func firstDecisionTime(bars: BarSeries, settings: RobotSettings, predictor: EnsemblePredictor)
        -> (time: Int64?, lastError: String?)
    {
        let clock = MarketSimulator(series: [bars])
        let required = requiredHistory(settings)
        guard bars.count > required else {
            return (nil, "\(bars.count) \(bars.symbol) \(bars.timeframe) bars; the robot needs \(required) before its first decision")
        }
        func predictable(_ i: Int) -> String? {
            do {
                _ = try predictor.predict(symbols: [bars.symbol], asOf: clock.closeTime(series: 0, bar: i))
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let why = predictable(bars.count - 1) { return (nil, why) }
        var lo = required, hi = bars.count - 1   // hi predictable
        while lo < hi {
            let mid = (lo + hi) / 2
            if predictable(mid) == nil { hi = mid } else { lo = mid + 1 }
        }
        return (clock.closeTime(series: 0, bar: lo), nil)
    }
}

/// One ensemble backtest: the simulation's result, what the robot decided each cycle, the batched predictions.
public struct EnsembleBacktestRun: Sendable {
    public var result: BacktestResult
    /// Every cycle's signals (with the re-weighted prediction each was decided from), breaker events, rejections.
    public var history: RobotHistory
    /// `predictSeries` over the traded range, before re-weighting.
    public var predictions: [EnsemblePrediction]
    /// Bars closing before the start (history) and from it on (traded).
    public var historyBars: Int
    public var tradedBars: Int
    /// Every bar's close time (the decision times).
    public var decisionTimes: [Int64]
    /// Wall time of the batched predictions and of the event loop.
    public var predictionSeconds: Double
    public var backtestSeconds: Double
}

/// Why an ensemble backtest cannot run, in the user's terms.
public enum EnsembleBacktestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Too few bars before the start, or none after it.
    case history(String)
    /// Settings that do not fit the bars or the predictor.
    case settings(String)
    case prediction(PredictionError)
    case backtest(BacktestError)

    public var description: String {
        switch self {
        case .history(let m), .settings(let m): m
        case .prediction(let e): "prediction: \(e)"
        case .backtest(let e): "backtest: \(e)"
        }
    }
}
