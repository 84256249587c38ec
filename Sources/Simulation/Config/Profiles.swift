import Common
import MarketData

/// A risk profile (configs/profiles.yaml `risk_profiles`): how much of equity one position may use, the account's
/// leverage cap and the protective stop distance in ATRs.
public struct RiskProfile: Sendable, Equatable {
    public var name: String
    /// Fraction of available equity committed per position (0, 1].
    public var positionFraction: Double
    public var maxLeverage: Double
    /// Stop-loss distance as a multiple of ATR(14); nil = no protective stop.
    public var stopATRMultiple: Double?
}

/// A trading profile (configs/profiles.yaml `trading_profiles`): the timeframes of the three horizons, shortest
/// first; a backtest trades the first.
public struct TradingProfile: Sendable, Equatable {
    public var name: String
    public var timeframes: [Timeframe]
}

/// configs/profiles.yaml: trading profiles (scalper/trader/investor) and risk profiles
/// (conservative/moderate/aggressive), shared by the backtester, the robot and the feature pipeline.
public struct Profiles: Sendable {
    public var trading: [String: TradingProfile]
    public var risk: [String: RiskProfile]

    /// The same profiles as the shipped configs/profiles.yaml, for runs outside the repository.
    public static let builtIn = Profiles(
        trading: ["scalper": TradingProfile(name: "scalper", timeframes: [.m5, .m15, .h1]),
                  "trader": TradingProfile(name: "trader", timeframes: [.h1, .h4, .d1]),
                  "investor": TradingProfile(name: "investor", timeframes: [.d1, .d1, .w1])],
        risk: ["conservative": RiskProfile(name: "conservative", positionFraction: 0.25, maxLeverage: 1, stopATRMultiple: 1.5),
               "moderate": RiskProfile(name: "moderate", positionFraction: 0.5, maxLeverage: 1, stopATRMultiple: 2),
               "aggressive": RiskProfile(name: "aggressive", positionFraction: 1, maxLeverage: 2, stopATRMultiple: 3)])

    public static func load(path: String) throws(ConfigError) -> Profiles {
        let root: YAMLNode
        do { root = try YAMLNode.load(path: path) } catch { throw ConfigError(error) }
        do {
            try root.checkKeys(["trading_profiles", "risk_profiles"])
            var trading: [String: TradingProfile] = [:]
            for (name, node) in try root.require("trading_profiles").mapping() {
                let tfs = try node.require("timeframes").sequence()
                var parsed: [Timeframe] = []
                for t in tfs {
                    do { parsed.append(try Timeframe(parsing: try t.string())) } catch let e as Timeframe.ParseError {
                        throw ConfigError(t, e.description)
                    }
                }
                guard !parsed.isEmpty else { throw ConfigError(node, "timeframes must not be empty") }
                trading[name] = TradingProfile(name: name, timeframes: parsed)
            }
            var risk: [String: RiskProfile] = [:]
            for (name, node) in try root.require("risk_profiles").mapping() {
                try node.checkKeys(["position_fraction", "max_leverage", "stop_atr_multiple"])
                let f = try node.require("position_fraction").double()
                guard f > 0, f <= 1 else { throw ConfigError(node["position_fraction"]!, "must be in (0, 1]") }
                let lev = try node.double("max_leverage", default: 1)
                guard lev > 0 else { throw ConfigError(node["max_leverage"]!, "must be > 0") }
                risk[name] = RiskProfile(name: name, positionFraction: f, maxLeverage: lev,
                                         stopATRMultiple: try node["stop_atr_multiple"]?.double())
            }
            return Profiles(trading: trading, risk: risk)
        } catch let e as ConfigError {
            throw e
        } catch let e as YAMLError {
            throw ConfigError(e)
        } catch {
            fatalError("unexpected error \(error)")
        }
    }
}
