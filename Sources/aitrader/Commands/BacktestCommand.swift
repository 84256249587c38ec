import Common
import Features
import Foundation
import MarketData
import Risk
import Simulation

/// `aitrader backtest --symbol S --strategy sma_cross [--data FILE.csv] --output DIR ...` (the plan's
/// scripts/run_backtest.py).
enum BacktestCommand: AITraderCommand {
    static let path = ["backtest"]
    static let summary = "backtest a strategy on bars; writes summary.json, trades.csv, equity.csv, report.html"
    static let options: [Option] = [
        Option("symbol", .list, "SYMBOL[,SYMBOL...]", "what to backtest; several symbols run one after another, "
               + "each into DIR/SYMBOL", required: true),
        Option("strategy", .choice(["sma_cross", "ensemble"]), "", "the strategy: sma_cross (moving-average crossover) or "
               + "ensemble (the trading robot on the ensemble's predictions; needs --checkpoints)", default: "sma_cross"),
        Option("checkpoints", .text, "DIR", "with --strategy ensemble: the checkpoints `aitrader train --model all "
               + "--checkpoint-dir DIR` wrote (DIR/<model>/best.safetensors, else the lowest val_loss, else last)"),
        Option("ensemble-config", .text, "PATH", "with --strategy ensemble: the ensemble configuration (default "
               + "configs/ensemble.yaml when present, else the built-in defaults)"),
        Option("features-config", .text, "DIR", "with --strategy ensemble: the feature sets the checkpoints were trained "
               + "on", default: "configs/features"),
        Option("output", .text, "DIR", "where the results are written", required: true),
        Option("data", .text, "FILE", "bars from a file (CSV in any layout `aitrader data import` reads, or Parquet); "
               + "without it, from the bar store"),
        Option("timeframe", .timeframe, "", "the bars' timeframe (default: with --data, inferred from the bar spacing; "
               + "else the trading profile's short_term timeframe)"),
        Option("start", .time, "", "the first bar's time (default: the first available; with --strategy ensemble, the "
               + "first bar close the robot can decide at — earlier bars are its history)"),
        Option("end", .time, "", "the last bar's time, inclusive (a date includes that whole day)"),
        Option("profile", .choice(["scalper", "trader", "investor"]), "", "trading profile", default: "trader"),
        Option("risk-profile", .text, "NAME", "risk profile of configs/risk_profiles.yaml", default: "moderate"),
        Option("fast", .integer(1 ... 100_000), "N", "fast moving-average window", default: "10"),
        Option("slow", .integer(2 ... 100_000), "N", "slow moving-average window (> --fast)", default: "20"),
        Option("cash", .number(.positive), "AMOUNT", "starting cash (default: the config's, else 10000)"),
        Option("commission", .number(.fraction), "RATE", "fraction of traded value per leg (0.002 = 20 bps); "
               + "overrides the config's commission"),
        Option("slippage-bps", .number(.nonNegative), "BPS", "fixed slippage in basis points; overrides the config's"),
        Option("latency-ms", .integer(0 ... 86_400_000), "MS", "order latency; overrides the config's"),
        Option("leverage", .number(.positive), "X", "the simulated account's margin leverage (default: the risk profile's "
               + "max_leverage; the ensemble robot sizes its positions within it)"),
        Option("sizing", .choice(["all-equity", "risk"]), "", "all-equity (backtesting.py's buy()/sell()) or risk "
               + "(the risk profile's position fraction and ATR stop)", default: "all-equity"),
        Option("end-of-data", .choice(["keep_open", "close_at_last_close", "close_at_last_open"]), "",
               "what happens to open positions at the end (default: the config's, else keep_open as backtesting.py)"),
        Option("market", .choice(["fx", "crypto", "equities"]), "", "trading calendar for sessions and annualisation "
               + "(default: guessed from the symbol: EURUSD = fx, BTCUSD = crypto, else US equities)"),
        Option("risk-free", .number(.any), "RATE", "annual risk-free rate for Sharpe/Sortino (default: the config's)"),
        Option("config", .text, "PATH", "execution models (default configs/simulation.yaml when present)"),
        Option("profiles", .text, "PATH", "trading profiles (default configs/features/profiles.yaml when present)"),
        Option("risk-profiles", .text, "PATH", "risk profiles (default configs/risk_profiles.yaml when present)"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        --strategy ensemble runs the trading robot (the same decision cycle as `aitrader robot`: breakers, the
        ensemble's prediction, signal, pre-trade risk, bracket orders) on the bars of the ensemble's decision
        timeframe from the store, with the models' predictions computed in one batch beforehand. Bars before --start
        are history (the robot's ATR and volatility windows need 271, the models their windows); the traded range
        is [--start, --end]. It adds DIR/ensemble.json and a section of report.html and report.txt: the ensemble's
        calibration on the traded period (reliability diagram, ECE), each model's weight over time, breaker
        events, signals by action, risk rejections by rule, and a comparison with buy-and-hold and sma_cross
        (--fast/--slow) on the same bars and execution models.
        Writes DIR/summary.json, trades.csv, equity.csv, orders.csv, fills.csv, report.txt, report.html,
        equity.parquet and trades.parquet, and prints the summary. Execution models come from
        configs/simulation.yaml when present (see that file). A run longer than a second reports its progress on
        stderr: a bar on a terminal, a line every 5 seconds otherwise. --quiet prints nothing but errors (no summary, no
        progress).
        """

    static func run(_ values: OptionValues) async throws {
        let symbols = values.list("symbol") ?? []
        let output = values.string("output") ?? ""
        guard symbols.count == Set(symbols).count else { throw UsageError("--symbol names a symbol twice") }
        if values.isGiven("data"), symbols.count > 1 {
            throw UsageError("--data is one symbol's bars; give one --symbol with it")
        }
        for symbol in symbols {
            try await run(values, symbol: symbol, output: symbols.count == 1 ? output : output + "/" + symbol)
        }
    }

    static func run(_ values: OptionValues, symbol: String, output: String) async throws {
        let setup = try BacktestSetup(values, symbol: symbol)
        if values.string("strategy") == "ensemble" {
            try EnsembleBacktestCommand.run(values, setup: setup, output: output)
            return
        }
        if values.isGiven("checkpoints") { throw UsageError("--checkpoints is for --strategy ensemble") }
        let dataPath = values.string("data")
        let quiet = values.flag("quiet")
        // Bars: from a file, with the timeframe inferred from the bar spacing (or the stated one checked against it);
        // from the store (read-only), the stored timeframe or one resampled from a finer stored one.
        let start = values.time("start")
        let end = values.inclusiveEnd("end")
        var bars: BarSeries
        if let dataPath {
            bars = try BarFile.load(path: dataPath, symbol: symbol, timeframe: values.timeframe("timeframe"))
            bars = bars.slice(from: start, to: end)
        } else {
            let timeframe = values.timeframe("timeframe") ?? setup.tradingProfile.timeframe(for: .shortTerm)
            let served = try DataContext.readOnlyStore(dataRoot: setup.dataRoot)
                .bars(symbol: symbol, timeframe: timeframe, start: start, end: end,
                      bins: DataContext.defaultConfiguration().bins)
            bars = served.series
            if served.resampled, !quiet {
                writeError("\(symbol) \(timeframe): resampled from the stored \(served.source.timeframe) bars\n")
            }
        }
        let timeframe = bars.timeframe
        guard bars.count >= 2 else {
            throw CommandFailure("\(bars.count) bars of \(symbol) in the requested range; a backtest needs at least 2")
        }
        let backtestConfig = setup.backtestConfig
        var strategy = setup.smaCross()
        let result = try Backtester(series: [bars], config: backtestConfig).run(&strategy)
        let annualization = Annualization.periodsPerYear(timeframe: timeframe, market: setup.market)
        let metrics = PerformanceMetrics(result, annualization: annualization, riskFreeRate: setup.riskFreeRate)
        // The baseline every strategy must beat: buy-and-hold of the same instrument over the same bars.
        let baseline = try BuyAndHoldBaseline(series: bars, config: backtestConfig, annualization: annualization,
                                              riskFreeRate: setup.riskFreeRate)
        var settings = setup.settings
        settings.append(("data", dataPath ?? "store:\(setup.dataRoot)"))
        settings.append(("timeframe", timeframe.description))
        let files = ResultFiles(result: result, metrics: metrics, settings: settings, baseline: baseline)
        let written = try files.write(to: output, prices: PriceSeries(symbol: symbol, times: bars.timestamps.array,
                                                                      close: bars.close.array))
        if !quiet {
            print(TextReport(result: result, metrics: metrics, settings: settings, baseline: baseline).render(),
                  terminator: "")
            print("wrote " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + " to \(output)")
        }
    }

    /// configs/features/profiles.yaml's profiles, for runs outside the repository.
    static let builtInTradingProfiles: [TradingProfile] = [
        TradingProfile(name: "scalper", timeframes: [.shortTerm: .m5, .mediumTerm: .m15, .longTerm: .h1]),
        TradingProfile(name: "trader", timeframes: [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]),
        TradingProfile(name: "investor", timeframes: [.shortTerm: .d1, .mediumTerm: .d1, .longTerm: .w1]),
    ]
}
