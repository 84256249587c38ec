import Common

/// configs/risk_profiles.yaml: the risk profiles (conservative/moderate/aggressive) of the backtester and the robot,
/// and the circuit breakers' settings (`breakers:`). (Trading profiles — the timeframe of each model — are Features'
/// `TradingProfile`, configs/features/profiles.yaml.)
///
///     let file = try RiskProfiles.load(path: "configs/risk_profiles.yaml")
///     let moderate = file.profiles["moderate"]!          // riskPerTrade 0.01, maxPositions 5, ...
///     let breakers = CircuitBreakers(config: file.breakers, profile: moderate)
///
/// Every profile key is required except `stop_atr_multiple` and `take_profit_atr_multiple` (absent or null: none);
/// `breakers:` may be left out (then `BreakerConfig.builtIn`). A value out of range is a `ConfigError` naming
/// file:line:column and the key, e.g.
/// `risk.yaml:4:45: 'risk_profiles.moderate.daily_loss_limit': must be in (0, 1) (...); found 3`.
public struct RiskProfiles: Sendable {
    public var profiles: [String: RiskProfile]
    public var breakers: BreakerConfig

    public init(profiles: [String: RiskProfile], breakers: BreakerConfig = .builtIn) {
        self.profiles = profiles
        self.breakers = breakers
    }

    /// The same profiles and breakers as the shipped configs/risk_profiles.yaml, for runs outside the repository.
    public static let builtIn = RiskProfiles(profiles: [
        "conservative": RiskProfile(name: "conservative", positionFraction: 0.25, maxLeverage: 1, stopATRMultiple: 1.5,
                                    riskPerTrade: 0.005, maxPositions: 3, maxExposure: 1, dailyLossLimit: 0.02,
                                    maxDrawdown: 0.10, minConfidence: 0.65, kellyFraction: 0.25,
                                    takeProfitATRMultiple: 2, maxConsecutiveLosses: 3, maxOrdersPerMinute: 10),
        "moderate": RiskProfile(name: "moderate", positionFraction: 0.5, maxLeverage: 1, stopATRMultiple: 2,
                                riskPerTrade: 0.01, maxPositions: 5, maxExposure: 2, dailyLossLimit: 0.03,
                                maxDrawdown: 0.15, minConfidence: 0.6, kellyFraction: 0.25,
                                takeProfitATRMultiple: 2.5, maxConsecutiveLosses: 4, maxOrdersPerMinute: 20),
        "aggressive": RiskProfile(name: "aggressive", positionFraction: 1, maxLeverage: 2, stopATRMultiple: 3,
                                  riskPerTrade: 0.02, maxPositions: 8, maxExposure: 3, dailyLossLimit: 0.05,
                                  maxDrawdown: 0.25, minConfidence: 0.55, kellyFraction: 0.5,
                                  takeProfitATRMultiple: 3, maxConsecutiveLosses: 6, maxOrdersPerMinute: 30),
    ], breakers: .builtIn)

    static let profileKeys = ["position_fraction", "max_leverage", "stop_atr_multiple", "risk_per_trade",
                              "max_positions", "max_exposure", "daily_loss_limit", "max_drawdown", "min_confidence",
                              "kelly_fraction", "take_profit_atr_multiple", "max_consecutive_losses",
                              "max_orders_per_minute"]

    public static func load(path: String) throws(ConfigError) -> RiskProfiles {
        let root: YAMLNode
        do { root = try YAMLNode.load(path: path) } catch { throw ConfigError(error) }
        return try parse(root)
    }

    /// Reads an already parsed document (`risk_profiles:` and the optional `breakers:`).
    public static func parse(_ root: YAMLNode) throws(ConfigError) -> RiskProfiles {
        do {
            try root.checkKeys(["risk_profiles", "breakers"])
            var risk: [String: RiskProfile] = [:]
            let section = try root.require("risk_profiles")
            let entries = try section.mapping()
            guard !entries.isEmpty else { throw ConfigError(section, "no risk profiles") }
            for (name, node) in entries {
                risk[name] = try profile(name: name, node)
            }
            let breakers = try root["breakers"].map { node throws(ConfigError) in try BreakerConfig.parse(node) }
            return RiskProfiles(profiles: risk, breakers: breakers ?? .builtIn)
        } catch let e as ConfigError {
            throw e
        } catch let e as YAMLError {
            throw ConfigError(e)
        } catch {
            throw ConfigError(root, "\(error)")
        }
    }

    private static func profile(name: String, _ node: YAMLNode) throws -> RiskProfile {
        try node.checkKeys(profileKeys)
        let p = RiskProfile(
            name: name,
            positionFraction: try node.require("position_fraction").double(),
            maxLeverage: try node.require("max_leverage").double(),
            stopATRMultiple: try node["stop_atr_multiple"]?.double(),
            riskPerTrade: try node.require("risk_per_trade").double(),
            maxPositions: try node.require("max_positions").int(),
            maxExposure: try node.require("max_exposure").double(),
            dailyLossLimit: try node.require("daily_loss_limit").double(),
            maxDrawdown: try node.require("max_drawdown").double(),
            minConfidence: try node.require("min_confidence").double(),
            kellyFraction: try node.require("kelly_fraction").double(),
            takeProfitATRMultiple: try node["take_profit_atr_multiple"]?.double(),
            maxConsecutiveLosses: try node.require("max_consecutive_losses").int(),
            maxOrdersPerMinute: try node.require("max_orders_per_minute").int())
        for rule in RiskProfile.rules where !rule.holds(p) {
            let value = node[rule.key]
            throw ConfigError(value ?? node, "\(rule.requirement); found \(value?.description ?? "null")")
        }
        return p
    }
}
