import Common

/// A risk profile: how much of equity one position may use, the account's leverage cap and the protective stop
/// distance in ATRs.
public struct RiskProfile: Sendable, Equatable {
    public var name: String
    /// Fraction of available equity committed per position (0, 1].
    public var positionFraction: Double
    public var maxLeverage: Double
    /// Stop-loss distance as a multiple of ATR(14); nil = no protective stop.
    public var stopATRMultiple: Double?
}

/// configs/risk_profiles.yaml: the risk profiles (conservative/moderate/aggressive) of the backtester and the
/// robot. (Trading profiles — the timeframe of each model — are Features' `TradingProfile`,
/// configs/features/profiles.yaml.)
///
///     let moderate = try RiskProfiles.load(path: "configs/risk_profiles.yaml").profiles["moderate"]
public struct RiskProfiles: Sendable {
    public var profiles: [String: RiskProfile]

    /// The same profiles as the shipped configs/risk_profiles.yaml, for runs outside the repository.
    public static let builtIn = RiskProfiles(profiles: [
        "conservative": RiskProfile(name: "conservative", positionFraction: 0.25, maxLeverage: 1, stopATRMultiple: 1.5),
        "moderate": RiskProfile(name: "moderate", positionFraction: 0.5, maxLeverage: 1, stopATRMultiple: 2),
        "aggressive": RiskProfile(name: "aggressive", positionFraction: 1, maxLeverage: 2, stopATRMultiple: 3),
    ])

    public static func load(path: String) throws(ConfigError) -> RiskProfiles {
        let root: YAMLNode
        do { root = try YAMLNode.load(path: path) } catch { throw ConfigError(error) }
        do {
            try root.checkKeys(["risk_profiles"])
            var risk: [String: RiskProfile] = [:]
            for (name, node) in try root.require("risk_profiles").mapping() {
                try node.checkKeys(["position_fraction", "max_leverage", "stop_atr_multiple"])
                let f = try node.require("position_fraction").double()
                guard f > 0, f <= 1 else { throw ConfigError(node["position_fraction"] ?? node, "must be in (0, 1]") }
                let lev = try node.double("max_leverage", default: 1)
                guard lev > 0, lev.isFinite else {
                    throw ConfigError(node["max_leverage"] ?? node, "must be > 0 and finite")
                }
                let stop = try node["stop_atr_multiple"]?.double()
                if let stop, !(stop > 0 && stop.isFinite) {
                    throw ConfigError(node["stop_atr_multiple"] ?? node, "must be > 0 and finite (or null: no stop)")
                }
                risk[name] = RiskProfile(name: name, positionFraction: f, maxLeverage: lev, stopATRMultiple: stop)
            }
            return RiskProfiles(profiles: risk)
        } catch let e as ConfigError {
            throw e
        } catch let e as YAMLError {
            throw ConfigError(e)
        } catch {
            throw ConfigError(root, "\(error)")
        }
    }
}
