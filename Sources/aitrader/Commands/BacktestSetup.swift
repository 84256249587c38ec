import Common
import Features
import Foundation
import MarketData
import Risk
import Simulation

/// What every `aitrader backtest` run shares, whatever the strategy: the configuration files (execution models,
/// trading and risk profiles), the command-line overrides of the execution models, the market, the run settings
/// and the sma_cross strategy the options describe (the strategy itself, or the ensemble's baseline).
struct BacktestSetup {
    let symbol: String
    let dataRoot: String
    let tradingProfile: TradingProfile
    let riskProfiles: RiskProfiles
    let risk: RiskProfile
    let market: AssetClass
    let riskFreeRate: Double
    let backtestConfig: BacktestConfig
    /// The settings recorded in summary.json (profile, risk profile, market, sizing, end of data).
    let settings: [(String, String)]
    let fast: Int
    let slow: Int
    let sizing: String

    init(_ values: OptionValues, symbol: String) throws {
        self.symbol = symbol
        dataRoot = try DataContext.dataRoot(values)
        let profileName = values.string("profile") ?? "trader"
        let riskName = values.string("risk-profile") ?? "moderate"
        fast = values.int("fast") ?? 10
        slow = values.int("slow") ?? 20
        sizing = values.string("sizing") ?? "all-equity"
        guard fast < slow else { throw UsageError("--fast must be smaller than --slow, got \(fast) and \(slow)") }

        // Configuration files: explicit paths must exist; the defaults are used when present.
        var config = SimulationConfig()
        if let p = values.configPath("config", default: "configs/simulation.yaml") {
            config = try SimulationConfig.load(path: p)
        }
        let tradingProfiles = try (values.configPath("profiles", default: "configs/features/profiles.yaml"))
            .map { try TradingProfile.load(path: $0) } ?? BacktestCommand.builtInTradingProfiles
        guard let tradingProfile = tradingProfiles.first(where: { $0.name == profileName }) else {
            throw UsageError("unknown --profile '\(profileName)' (\(tradingProfiles.map(\.name).joined(separator: ", ")))")
        }
        self.tradingProfile = tradingProfile
        riskProfiles = try (values.configPath("risk-profiles", default: "configs/risk_profiles.yaml"))
            .map { try RiskProfiles.load(path: $0) } ?? .builtIn
        guard let risk = riskProfiles.profiles[riskName] else {
            throw UsageError("unknown --risk-profile '\(riskName)' (\(riskProfiles.profiles.keys.sorted().joined(separator: ", ")))")
        }
        self.risk = risk

        // Models: config file, then risk profile leverage, then command-line overrides.
        // The account's margin leverage: --leverage, else the risk profile's max_leverage — for every strategy, so the
        // sma_cross baseline of an ensemble run trades the account it would trade alone. The robot sizes within it
        // (`RobotSettings.sizingProfile`: exposure ≤ min(max_exposure, max_leverage) × 0.98 headroom for the move to
        // the next open and the commission), so the venue does not refuse its orders for margin.
        var models = config.models
        models.maxLeverage = values.double("leverage") ?? risk.maxLeverage
        if let commission = values.double("commission") {
            models.commission = commission == 0 ? .none : .fractionOfNotional(commission)
        }
        if let slippageBps = values.double("slippage-bps") { models.slippage = slippageBps == 0 ? .none : .fixedBps(slippageBps) }
        if let latency = values.int("latency-ms") { models.latency = LatencyModel(milliseconds: Int64(latency)) }
        var endOfData = config.endOfData
        if let text = values.string("end-of-data") {
            guard let p = EndOfDataPolicy(rawValue: text) else {
                throw UsageError("--end-of-data is keep_open, close_at_last_close or close_at_last_open")
            }
            endOfData = p
        }
        if let text = values.string("market") {
            guard let m = AssetClass(rawValue: text) else { throw UsageError("--market is fx, crypto or equities") }
            market = m
        } else {
            market = AssetClass.guess(symbol: symbol)
        }
        riskFreeRate = values.double("risk-free") ?? config.riskFreeRate
        backtestConfig = BacktestConfig(cash: values.double("cash") ?? config.cash, models: models, endOfData: endOfData,
                                        calendars: [symbol: market.calendar], lookAheadAudit: config.lookAheadAudit,
                                        progress: !values.flag("quiet"), ruinFraction: config.ruinFraction)
        settings = [("profile", profileName), ("risk_profile", riskName), ("market", market.rawValue), ("sizing", sizing),
                    ("end_of_data", endOfData.rawValue),
                    ("leverage", "\(models.maxLeverage)")]
    }

    /// The sma_cross strategy of --fast, --slow and --sizing (risk sizing: the risk profile's fraction and ATR stop).
    func smaCross() -> SMACross {
        SMACross(fast: fast, slow: slow, positionFraction: sizing == "risk" ? risk.positionFraction : nil,
                 stopATRMultiple: sizing == "risk" ? risk.stopATRMultiple : nil)
    }
}
