import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Prediction
import Risk
import Robot
import Simulation

/// `aitrader backtest --strategy ensemble --checkpoints DIR --symbol S [--start T] [--end T] --output DIR ...`: the
/// trading robot on the ensemble's batched predictions (`Robot.EnsembleBacktest`), its report
/// (`Robot.EnsembleReport`: ensemble.json, sections of report.html and report.txt) and the buy-and-hold and
/// sma_cross baselines on the same bars and execution models.
enum EnsembleBacktestCommand {
    static func run(_ values: OptionValues, setup: BacktestSetup, output: String) throws {
        let symbol = setup.symbol
        let quiet = values.flag("quiet")
        guard let checkpoints = values.string("checkpoints") else {
            throw UsageError("--strategy ensemble needs --checkpoints DIR (the checkpoints `aitrader train --model all` wrote)")
        }
        if values.isGiven("data") {
            throw UsageError("--data is for sma_cross: the ensemble reads its bars and features from the store "
                + "(aitrader data import --csv FILE --symbol \(symbol) first)")
        }
        if values.isGiven("sizing") {
            throw UsageError("--sizing is for sma_cross: the robot sizes by the risk profile (risk per trade, Kelly, exposure)")
        }

        // The predictor: checkpoints + feature store + ensemble configuration, as `aitrader predict` builds it.
        let configPath = values.configPath("ensemble-config", default: "configs/ensemble.yaml")
        var ensembleConfig = try configPath.map { try EnsembleConfig.load(path: $0) } ?? EnsembleConfig()
        ensembleConfig.maxDataAgeHours = 0   // decisions at stored bar closes: the data is never stale
        let barStore = try DataContext.readOnlyStore(dataRoot: setup.dataRoot)
        let store = try FeatureStore(root: setup.dataRoot, bars: barStore,
                                     configDirectory: values.string("features-config") ?? "configs/features")
        let backend = try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads"))
        let predictor = try EnsemblePredictor.load(checkpointsDirectory: checkpoints, store: store,
                                                   ensembleConfig: ensembleConfig, backend: backend)

        // Bars of the decision timeframe, from the first stored one (history) to --end.
        let timeframe = predictor.decisionTimeframe
        if let asked = values.timeframe("timeframe"), asked != timeframe {
            throw UsageError("--timeframe \(asked): the ensemble decides at its finest model timeframe, \(timeframe) "
                + "(leave --timeframe out)")
        }
        let served = try barStore.bars(symbol: symbol, timeframe: timeframe, start: nil, end: values.inclusiveEnd("end"),
                                       bins: DataContext.defaultConfiguration().bins)
        let bars = served.series
        if served.resampled, !quiet {
            writeError("\(symbol) \(timeframe): resampled from the stored \(served.source.timeframe) bars\n")
        }
        let robotSettings = RobotSettings(symbols: [symbol], profile: setup.risk, breakers: setup.riskProfiles.breakers)
        let start: Int64
        if let given = values.time("start") {
            // --start names the first traded bar (its open time, as for sma_cross): the first decision is at its close.
            let clock = MarketSimulator(series: [bars])
            let first = bars.index(firstAtOrAfter: given)
            start = first < bars.count ? clock.closeTime(series: 0, bar: first) : given
        } else {
            let first = EnsembleBacktest.firstDecisionTime(bars: bars, settings: robotSettings, predictor: predictor)
            guard let t = first.time else {
                throw CommandFailure("\(symbol): no bar close in the store where the robot can decide: \(first.lastError ?? "")")
            }
            start = t
            if !quiet {
                writeError("\(symbol): trading from the bar closing at \(UTCTime.iso8601(t)), the first with enough history "
                    + "before it\n")
            }
        }

        // The robot, then the baselines on the same bars (history included, trading from the same start).
        let backtest = EnsembleBacktest(settings: robotSettings, config: setup.backtestConfig)
        let run = try backtest.run(bars: bars, start: start, predictor: predictor)
        var baselineConfig = setup.backtestConfig
        baselineConfig.start = run.result.times.first ?? start
        baselineConfig.progress = false
        let annualization = Annualization.periodsPerYear(timeframe: timeframe, market: setup.market)
        let metrics = PerformanceMetrics(run.result, annualization: annualization, riskFreeRate: setup.riskFreeRate)
        let buyAndHold = try BuyAndHoldBaseline(series: bars, config: baselineConfig, annualization: annualization,
                                                riskFreeRate: setup.riskFreeRate)
        var sma = setup.smaCross()
        let smaResult = try Backtester(series: [bars], config: baselineConfig).run(&sma)
        let smaMetrics = PerformanceMetrics(smaResult, annualization: annualization, riskFreeRate: setup.riskFreeRate)
        let report = EnsembleReport(run: run, bars: bars, comparison: [
            .init(name: "ensemble", result: run.result, metrics: metrics),
            .init(name: "buy_and_hold", result: buyAndHold.result, metrics: buyAndHold.metrics),
            .init(name: "sma_cross_\(setup.fast)_\(setup.slow)", result: smaResult, metrics: smaMetrics),
        ])

        var settings = setup.settings.filter { $0.0 != "sizing" }
        settings.append(("data", "store:\(setup.dataRoot)"))
        settings.append(("timeframe", timeframe.description))
        settings.append(("checkpoints", checkpoints))
        settings.append(("history_bars", "\(run.historyBars)"))
        var files = ResultFiles(result: run.result, metrics: metrics, settings: settings, baseline: buyAndHold)
        files.extraText = report.text()
        files.extraHTML = report.html()
        files.extraFiles = [("ensemble.json", report.json())]
        let traded = bars.slice(from: run.result.barTimes.first, to: nil)
        let written = try files.write(to: output, prices: PriceSeries(symbol: symbol, times: traded.timestamps.array,
                                                                      close: traded.close.array))
        if !quiet {
            print(TextReport(result: run.result, metrics: metrics, settings: settings, baseline: buyAndHold).render(),
                  terminator: "")
            print(report.text(), terminator: "")
            print("wrote " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + " to \(output)")
        }
    }
}
