import Common
import Engine
import Features
import Foundation
import Models
import Prediction

/// `aitrader predict --symbol EURUSD[,GBPUSD] --checkpoints DIR [--as-of TIME] [--json] [--data-root DIR]`: the
/// ensemble's call for each symbol from the latest closed bars in the store.
enum PredictCommand: AITraderCommand {
    static let path = ["predict"]
    static let summary = "the ensemble's prediction for symbols from the latest closed bars (per-model votes, weights, regime)"
    static let options: [Option] = [
        Option("symbol", .list, "SYMBOL[,SYMBOL...]", "symbols in the bar store; several go through the models as one batch",
               required: true),
        Option("checkpoints", .text, "DIR", "checkpoints written by `aitrader train --model all --checkpoint-dir DIR` "
               + "(DIR/<model>/best.safetensors, else the lowest val_loss, else last)", required: true),
        Option("as-of", .time, "TIME", "decision time: only bars closed at or before it are used (default: now)"),
        Option("config", .text, "PATH", "ensemble configuration (default configs/ensemble.yaml when present, else the built-in defaults)"),
        Option("features-config", .text, "DIR", "directory of the feature sets the checkpoints were trained on", default: "configs/features"),
        Option(flag: "json", "print every field as JSON (an array, one object per symbol)"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Each model runs on its checkpoint's timeframe (resampled from a finer stored one as in training) over its
        latest bar closed at the decision time: the close of the latest closed bar of the finest timeframe at or
        before --as-of (now). Its features come from the feature store under the data root (computed there when
        missing or stale) and must be the ones it was trained on (names, order, feature_config_hash). Combined as
        configs/ensemble.yaml says: calibrated p(up) per model, weights from the regime (ADX), recent accuracy and
        volatility, the moment-matched Beta of the mixture, agreement and a disagreement penalty; direction 0 below
        the confidence threshold. Data older than max_data_age_hours before the decision time is refused as stale.
        Times in the table are UTC; JSON times are UTC milliseconds.
        """

    static func run(_ values: OptionValues) async throws {
        let symbols = values.list("symbol") ?? []
        let configPath = values.configPath("config", default: "configs/ensemble.yaml")
        let config = try configPath.map { try EnsembleConfig.load(path: $0) } ?? EnsembleConfig()
        let dataRoot = try DataContext.dataRoot(values)
        let store = try FeatureStore(root: dataRoot, bars: DataContext.readOnlyStore(dataRoot: dataRoot),
                                     configDirectory: values.string("features-config") ?? "configs/features")
        let backend = try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads"))
        let predictor = try EnsemblePredictor.load(checkpointsDirectory: values.string("checkpoints") ?? "", store: store,
                                                   ensembleConfig: config, backend: backend)
        let predictions = try predictor.predict(symbols: symbols, asOf: values.time("as-of"))
        if values.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(predictions), as: UTF8.self))
            return
        }
        print(table(predictions, checkpoints: predictor.checkpoints))
    }

    static func table(_ predictions: [EnsemblePrediction], checkpoints: [ModelType: String]) -> String {
        func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t + " " : t + String(repeating: " ", count: n - t.count) }
        func f(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }
        func direction(_ d: Int) -> String { d > 0 ? "UP" : (d < 0 ? "DOWN" : "none") }
        var s = ""
        for p in predictions {
            s += "== \(p.symbol) at \(UTCTime.iso8601(p.time)) (data age \(p.dataAge / 60_000) min): \(direction(p.direction)), "
                + "p(up) \(f(p.pUp)), confidence \(f(p.confidence)) (threshold \(f(p.confidenceThreshold))), "
                + "Beta(\(f(p.alpha, 2)), \(f(p.beta, 2)))\n"
            s += "   agreement \(f(p.agreement)), disagreement penalty \(f(p.disagreementPenalty)), regime \(p.regime.rawValue)"
                + (p.adx.map { " (ADX \(f($0, 1)))" } ?? "") + ", volatility percentile \(f(p.volatilityPercentile, 2))"
                + (p.weightScale < 1 ? " (high: weights × \(f(p.weightScale, 2)))" : "") + "\n"
            s += "   " + pad("model", 12) + pad("tf", 4) + pad("last bar close", 21) + pad("alpha", 8) + pad("beta", 8)
                + pad("p_raw", 7) + pad("p_up", 7) + pad("conf", 7) + pad("base_w", 7) + pad("weight", 7) + "vote\n"
            for v in p.votes {
                s += "   " + pad(v.modelType.rawValue, 12) + pad(v.timeframe, 4) + pad(UTCTime.iso8601(v.featureTime), 21)
                    + pad(f(v.alpha), 8) + pad(f(v.beta), 8) + pad(f(v.pUpRaw), 7) + pad(f(v.pUp), 7) + pad(f(v.confidence), 7)
                    + pad(f(v.baseWeight), 7) + pad(f(v.weight), 7) + direction(v.direction) + "\n"
            }
        }
        s += "checkpoints: " + ModelType.allCases.compactMap { m in checkpoints[m].map { "\(m.rawValue) \($0)" } }.joined(separator: ", ")
        return s
    }
}
