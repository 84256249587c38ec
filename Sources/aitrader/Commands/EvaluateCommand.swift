import Common
import Engine
import Foundation
import Models
import Simulation
import Training

/// `aitrader evaluate --checkpoint CK.safetensors [--split test|validation] [--output DIR] [--data-root DIR] [--json]`:
/// a trained model's figures on a split of the data it was trained on, beside the baselines, with intervals.
enum EvaluateCommand: AITraderCommand {
    static let path = ["evaluate"]
    static let summary = "evaluate a trained checkpoint on its test split against baselines (evaluation.json, predictions.csv, report.html)"
    static let options: [Option] = [
        Option("checkpoint", .text, "CK.safetensors", "a checkpoint written by `aitrader train`", required: true),
        Option("split", .choice(["test", "validation"]), "", "which split to evaluate", default: "test"),
        Option("output", .text, "DIR", "where evaluation.json, predictions.csv and report.html go (default: evaluation/<model>)"),
        Option("commission", .number(.fraction), "RATE", "fraction of traded value per position change (default: configs/simulation.yaml's)"),
        Option("config", .text, "PATH", "simulation config giving the commission (default configs/simulation.yaml when present)"),
        Option("resamples", .integer(10 ... 100_000), "N", "bootstrap resamples", default: "1000"),
        Option("seed", .integer(0 ... Int.max), "N", "bootstrap seed", default: "20240501"),
        Option(flag: "json", "print evaluation.json instead of the table"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Re-derives the dataset exactly as the checkpoint records it (training config, feature set and its hash,
        label, symbol, timeframe, the bars' range, the saved scaler); a checkpoint refuses features it was not
        trained on, and bars that no longer give the recorded splits. Figures: accuracy, precision, recall, F1 of
        p_up > 0.5, log loss, Brier, ECE / MCE (10 bins of p_up), the AUC of the confidence for a right call — for the
        model and the baselines always_up, previous_return (sign of the last label-horizon return), logistic (L2
        logistic regression on the last window step's scaled features, fitted on the training split) and base_rate
        (the training split's share of up labels). Each with a 95 % day-block bootstrap interval; the model is tested
        against the best baseline (paired bootstrap p-value). Simulated trading: position sign(p_up − 0.5) (and
        scaled by the confidence) over the next bar, paying the commission on every change.
        """

    static func run(_ values: OptionValues) async throws {
        let path = values.string("checkpoint") ?? ""
        let contents = try Checkpoint.read(path)
        let commission: Double
        if let c = values.double("commission") {
            commission = c
        } else {
            let configPath = values.configPath("config", default: "configs/simulation.yaml")
            var config = SimulationConfig()
            if let configPath { config = try SimulationConfig.load(path: configPath) }
            switch config.models.commission {
            case .none: commission = 0
            case .fractionOfNotional(let f): commission = f
            default:
                throw UsageError("the commission of \(configPath ?? "the default simulation config") is not a fraction of traded value; pass --commission RATE")
            }
        }
        var options = Evaluation.Options(part: values.string("split") == "validation" ? .validation : .test, commission: commission,
                                         resamples: values.int("resamples") ?? 1000, seed: UInt64(values.int("seed") ?? 20_240_501))
        options.batchSize = 256
        let store = try DataContext.store(dataRoot: try DataContext.dataRoot(values))
        let bars = try Evaluation.bars(for: contents, store: store)
        let backend = try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads"))
        let result = try Evaluation(options: options).run(contents, bars: bars, backend: backend)
        let output = values.string("output") ?? "evaluation/\(result.modelType)"
        try EvaluationFiles.write(result, to: output)
        if values.flag("json") {
            print(EvaluationFiles.json(result), terminator: "")
            return
        }
        print(table(result))
        print("wrote \(output)/evaluation.json, predictions.csv, report.html")
    }

    /// The compact table: forecasts × figures with intervals, the paired tests, the simulated trading.
    static func table(_ r: EvaluationResult) -> String {
        var s = "== evaluate \(r.modelType) on \(r.symbol) \(r.timeframe), \(r.split) split: \(r.samples) samples over \(r.days) days "
            + "(\(r.start) … \(r.end)), label horizon \(r.labelHorizon), 95 % day-block bootstrap (\(r.resamples))\n"
        let figures = ["accuracy", "f1", "log_loss", "brier", "ece", "confidence_auc", "concentration_auc"]
        func cell(_ e: Estimate?) -> String {
            guard let e, let v = e.value else { return "-" }
            return String(format: "%.3f", v) + " [" + (e.low.map { String(format: "%.3f", $0) } ?? "-") + ","
                + (e.high.map { String(format: "%.3f", $0) } ?? "-") + "]"
        }
        func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t : t + String(repeating: " ", count: n - t.count) }
        s += pad("", 16) + figures.map { pad($0, 22) }.joined() + "\n"
        for name in EvaluationResult.forecastOrder {
            guard let m = r.metrics[name] else { continue }
            s += pad(name, 16) + figures.map { pad(cell(m[$0]), 22) }.joined() + "\n"
        }
        for t in r.pairedTests {
            s += "model − \(t.baseline) \(t.metric): " + cell(t.difference) + ", p = " + (t.pValue.map { String(format: "%.3f", $0) } ?? "-") + "\n"
        }
        s += pad("trading", 26) + pad("sharpe", 26) + ["total", "sortino", "max_dd", "turnover"].map { pad($0, 10) }.joined()
            + "(commission \(r.commission))\n"
        for t in r.trading {
            let sharpe = t.sharpeInterval.map(cell) ?? (t.sharpe.isFinite ? String(format: "%.3f", t.sharpe) : "-")
            s += pad(t.name, 26) + pad(sharpe, 26) + [t.totalReturn, t.sortino, t.maxDrawdown, t.turnover]
                .map { pad($0.isFinite ? String(format: "%.3f", $0) : "-", 10) }.joined() + "\n"
        }
        return s
    }
}
