import Common
import Features
import Foundation
import MarketData
import Simulation

/// `aitrader backtest --symbol S --strategy sma_cross [--data FILE.csv] --output DIR ...` (the plan's
/// scripts/run_backtest.py).
enum BacktestCommand: AITraderCommand {
    static let path = ["backtest"]
    static let summary = "backtest a strategy on bars; writes summary.json, trades.csv, equity.csv, report.html"
    static var usage: String {
        """
        Usage: aitrader backtest --symbol SYMBOL --strategy sma_cross --output DIR
                                 [--data FILE.csv | --data-root DIR] [--timeframe TF] [--start DATE] [--end DATE]
                                 [--profile scalper|trader|investor] [--risk-profile conservative|moderate|aggressive]
                                 [--fast 10] [--slow 20] [--cash 10000] [--commission 0.002] [--slippage-bps BPS]
                                 [--latency-ms MS] [--sizing all-equity|risk] [--end-of-data keep_open|close_at_last_close|close_at_last_open]
                                 [--market fx|crypto|equities] [--risk-free RATE] [--config configs/simulation.yaml]
                                 [--profiles configs/features/profiles.yaml] [--risk-profiles configs/risk_profiles.yaml]
                                 [--progress] [--quiet]
          --data        bars from a CSV (Date/Datetime,Open,High,Low,Close[,Volume]); without it, from the bar store
          --data-root   the data root whose store `aitrader data import` fills (default: as `aitrader data`)
          --timeframe   the bars' timeframe (default: the trading profile's short_term timeframe, trader = 1h)
          --start/--end a date range; an --end given as a date includes that whole day
          --commission  fraction of traded value per leg (0.002 = 20 bps); overrides the config's commission
          --sizing      all-equity (backtesting.py's buy()/sell(), default) or risk (the risk profile's position
                        fraction and ATR stop)
          --end-of-data what happens to open positions at the end (default keep_open, as backtesting.py)
          --market      trading calendar for sessions (DAY orders) and annualisation (default: guessed from the
                        symbol; EURUSD = fx, BTCUSD = crypto, else US equities)
        Writes DIR/summary.json, trades.csv, equity.csv, orders.csv, fills.csv, report.txt, report.html,
        equity.parquet and trades.parquet, and prints the summary.
        Execution models come from configs/simulation.yaml when present (see that file).
        """
    }

    static func run(_ arguments: ParsedArguments) async throws {
        let symbol = try arguments.require("symbol")
        let strategyName = arguments.string("strategy") ?? "sma_cross"
        let output = try arguments.require("output")
        let dataPath = arguments.string("data")
        let dataRoot = try DataContext.dataRoot(arguments)
        let timeframeText = arguments.string("timeframe")
        let startText = arguments.string("start"), endText = arguments.string("end")
        let profileName = arguments.string("profile") ?? "trader"
        let riskName = arguments.string("risk-profile") ?? "moderate"
        let fast = try arguments.int("fast") ?? 10
        let slow = try arguments.int("slow") ?? 20
        let cash = try arguments.double("cash")
        let commission = try arguments.double("commission")
        let slippageBps = try arguments.double("slippage-bps")
        let latency = try arguments.int("latency-ms")
        let sizing = arguments.string("sizing") ?? "all-equity"
        let endOfDataText = arguments.string("end-of-data")
        let marketText = arguments.string("market")
        let riskFree = try arguments.double("risk-free")
        let configPath = arguments.string("config")
        let profilesPath = arguments.string("profiles")
        let riskProfilesPath = arguments.string("risk-profiles")
        let progress = arguments.flag("progress")
        let quiet = arguments.flag("quiet")
        try arguments.finish()

        guard strategyName == "sma_cross" else {
            throw UsageError("unknown strategy '\(strategyName)' (available: sma_cross)")
        }
        guard fast > 0, slow > 0, fast < slow else { throw UsageError("need 0 < --fast < --slow, got \(fast)/\(slow)") }
        guard ["all-equity", "risk"].contains(sizing) else { throw UsageError("--sizing is all-equity or risk") }

        // Configuration files: explicit paths must exist; the defaults are used when present.
        var config = SimulationConfig()
        if let p = configPath ?? existing("configs/simulation.yaml") { config = try SimulationConfig.load(path: p) }
        let tradingProfiles = try (profilesPath ?? existing("configs/features/profiles.yaml"))
            .map { try TradingProfile.load(path: $0) } ?? builtInTradingProfiles
        guard let tradingProfile = tradingProfiles.first(where: { $0.name == profileName }) else {
            throw UsageError("unknown --profile '\(profileName)' (\(tradingProfiles.map(\.name).joined(separator: ", ")))")
        }
        let riskProfiles = try (riskProfilesPath ?? existing("configs/risk_profiles.yaml"))
            .map { try RiskProfiles.load(path: $0) } ?? .builtIn
        guard let risk = riskProfiles.profiles[riskName] else {
            throw UsageError("unknown --risk-profile '\(riskName)' (\(riskProfiles.profiles.keys.sorted().joined(separator: ", ")))")
        }
        let timeframe: Timeframe
        if let timeframeText {
            do { timeframe = try Timeframe(parsing: timeframeText) } catch { throw UsageError(error.description) }
        } else {
            timeframe = tradingProfile.timeframe(for: .shortTerm)
        }

        // Bars.
        let start = try startText.map { try date($0, name: "start", endOfDay: false) }
        let end = try endText.map { try date($0, name: "end", endOfDay: true) }
        var bars: BarSeries
        if let dataPath {
            bars = try CSVBarReader().read(path: dataPath, symbol: symbol, timeframe: timeframe)
            bars = bars.slice(from: start, to: end)
        } else {
            let store = try DataContext.store(dataRoot: dataRoot)
            bars = try store.read(symbol: symbol, timeframe: timeframe, start: start, end: end)
        }
        guard bars.count >= 2 else { throw UsageError("fewer than 2 bars of \(symbol) in the requested range") }

        // Models: config file, then risk profile leverage, then command-line overrides.
        var models = config.models
        models.maxLeverage = risk.maxLeverage
        if let commission { models.commission = commission == 0 ? .none : .fractionOfNotional(commission) }
        if let slippageBps { models.slippage = slippageBps == 0 ? .none : .fixedBps(slippageBps) }
        if let latency {
            guard latency >= 0 else { throw UsageError("--latency-ms must be >= 0") }
            models.latency = LatencyModel(milliseconds: Int64(latency))
        }
        var endOfData = config.endOfData
        if let endOfDataText {
            guard let p = EndOfDataPolicy(rawValue: endOfDataText.replacingOccurrences(of: "-", with: "_")) else {
                throw UsageError("--end-of-data is keep_open, close_at_last_close or close_at_last_open")
            }
            endOfData = p
        }
        let market: MarketKind
        if let marketText {
            guard let m = MarketKind(rawValue: marketText) else { throw UsageError("--market is fx, crypto or equities") }
            market = m
        } else {
            market = MarketKind.guess(symbol: symbol)
        }
        let backtestConfig = BacktestConfig(cash: cash ?? config.cash, models: models, endOfData: endOfData,
                                            calendars: [symbol: market.calendar],
                                            lookAheadAudit: config.lookAheadAudit, progress: progress)
        var strategy = SMACross(fast: fast, slow: slow,
                                positionFraction: sizing == "risk" ? risk.positionFraction : nil,
                                stopATRMultiple: sizing == "risk" ? risk.stopATRMultiple : nil)
        let result = try Backtester(series: [bars], config: backtestConfig).run(&strategy)
        let metrics = PerformanceMetrics(result, annualization: Annualization.periodsPerYear(timeframe: timeframe,
                                                                                             market: market),
                                         riskFreeRate: riskFree ?? config.riskFreeRate)
        var settings: [(String, String)] = [("profile", profileName), ("risk_profile", riskName),
                                            ("market", market.rawValue), ("sizing", sizing),
                                            ("end_of_data", endOfData.rawValue)]
        settings.append(("data", dataPath ?? "store:\(dataRoot)"))
        let files = ResultFiles(result: result, metrics: metrics, settings: settings)
        let written = try files.write(to: output, prices: PriceSeries(symbol: symbol, times: bars.timestamps.array,
                                                                      close: bars.close.array))
        if !quiet {
            print(TextReport(result: result, metrics: metrics, settings: settings).render(), terminator: "")
            print("wrote " + written.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + " to \(output)")
        }
    }

    private static func existing(_ path: String) -> String? {
        FileManager.default.fileExists(atPath: path) ? path : nil
    }

    private static func date(_ text: String, name: String, endOfDay: Bool) throws -> Int64 {
        guard let t = UTCTime.parse(text) else { throw UsageError("--\(name): cannot parse date '\(text)'") }
        let dateOnly = !text.contains(":")
        return endOfDay && dateOnly ? t + UTCTime.msPerDay : t
    }

    /// configs/features/profiles.yaml's profiles, for runs outside the repository.
    private static let builtInTradingProfiles: [TradingProfile] = [
        TradingProfile(name: "scalper", timeframes: [.shortTerm: .m5, .mediumTerm: .m15, .longTerm: .h1]),
        TradingProfile(name: "trader", timeframes: [.shortTerm: .h1, .mediumTerm: .h4, .longTerm: .d1]),
        TradingProfile(name: "investor", timeframes: [.shortTerm: .d1, .mediumTerm: .d1, .longTerm: .w1]),
    ]
}
