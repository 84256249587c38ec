import Common

/// The circuit breakers' settings that are not in the risk profile: each breaker's cool-down and the thresholds of
/// the market-condition breakers. The `breakers:` section of configs/risk_profiles.yaml:
///
///     breakers:
///       daily_loss:          {cooldown_minutes: 0}          # and always until the next session day
///       consecutive_losses:  {cooldown_minutes: 240}
///       drawdown:            {cooldown_minutes: manual}     # manual reset only
///       volatility_spike:    {cooldown_minutes: 60, threshold_ratio: 3.0}
///       stale_data:          {cooldown_minutes: 5, max_age_bars: 3}
///       broker_connectivity: {cooldown_minutes: 5, max_failures: 3}
///
/// Stale data is measured in bars of the robot's timeframe: `staleDataMaxAge` = `staleDataMaxAgeBars` x
/// `barInterval` (set `barInterval` from the timeframe with `forBarInterval(_:)`; 1 minute by default), so 3 bars
/// of 1m data = 3 minutes.
public struct BreakerConfig: Sendable, Equatable, Codable {
    /// Cool-down of each breaker in milliseconds: the least time between a trip and its reset. A kind missing here
    /// resets only by hand (`CircuitBreakers.reset`).
    public var cooldowns: [BreakerKind: Int64]
    /// Realised volatility over its recent median at which `volatilitySpike` trips (> 1).
    public var volatilityRatioThreshold: Double
    /// Age of the newest data, in bar intervals, past which `staleData` trips (> 0).
    public var staleDataMaxAgeBars: Double
    /// The robot's bar interval in milliseconds (the unit of `staleDataMaxAgeBars`).
    public var barInterval: Int64
    /// Consecutive failed venue calls at which `brokerConnectivity` trips (>= 1).
    public var brokerMaxFailures: Int

    public init(cooldowns: [BreakerKind: Int64], volatilityRatioThreshold: Double, staleDataMaxAgeBars: Double,
                barInterval: Int64 = 60_000, brokerMaxFailures: Int) {
        self.cooldowns = cooldowns
        self.volatilityRatioThreshold = volatilityRatioThreshold
        self.staleDataMaxAgeBars = staleDataMaxAgeBars
        self.barInterval = barInterval
        self.brokerMaxFailures = brokerMaxFailures
    }

    /// The shipped settings (configs/risk_profiles.yaml's `breakers:`).
    public static let builtIn = BreakerConfig(
        cooldowns: [.dailyLoss: 0, .consecutiveLosses: 240 * UTCTime.msPerMinute,
                    .volatilitySpike: 60 * UTCTime.msPerMinute, .staleData: 5 * UTCTime.msPerMinute,
                    .brokerConnectivity: 5 * UTCTime.msPerMinute],
        volatilityRatioThreshold: 3, staleDataMaxAgeBars: 3, brokerMaxFailures: 3)

    /// The cool-down of `kind` in milliseconds; nil = manual reset only.
    public func cooldown(_ kind: BreakerKind) -> Int64? { cooldowns[kind] }

    /// Data older than this (milliseconds) trips `staleData`.
    public var staleDataMaxAge: Int64 { Int64((staleDataMaxAgeBars * Double(max(barInterval, 1))).rounded()) }

    /// The same settings for a robot trading bars of `milliseconds` (e.g. `Timeframe.h1.milliseconds`).
    public func forBarInterval(_ milliseconds: Int64) -> BreakerConfig {
        var c = self
        c.barInterval = max(milliseconds, 1)
        return c
    }

    /// Reads the `breakers:` mapping; every breaker must be listed with its `cooldown_minutes` (a number >= 0 or
    /// `manual`). Errors name file:line:column and the key.
    public static func parse(_ node: YAMLNode) throws(ConfigError) -> BreakerConfig {
        do {
            try node.checkKeys(BreakerKind.allCases.map(\.rawValue))
            var config = BreakerConfig(cooldowns: [:], volatilityRatioThreshold: 3, staleDataMaxAgeBars: 3,
                                       brokerMaxFailures: 3)
            for kind in BreakerKind.allCases {
                let entry = try node.require(kind.rawValue)
                var allowed = ["cooldown_minutes"]
                switch kind {
                case .volatilitySpike: allowed.append("threshold_ratio")
                case .staleData: allowed.append("max_age_bars")
                case .brokerConnectivity: allowed.append("max_failures")
                default: break
                }
                try entry.checkKeys(allowed)
                let cooldown = try entry.require("cooldown_minutes")
                if try cooldown.string() != "manual" {
                    let minutes = try cooldown.double()
                    guard minutes >= 0, minutes <= 525_600 else {
                        throw ConfigError(cooldown, "must be minutes in 0...525600 (a year) or 'manual'; found \(cooldown)")
                    }
                    config.cooldowns[kind] = Int64((minutes * Double(UTCTime.msPerMinute)).rounded())
                }
                switch kind {
                case .volatilitySpike:
                    let t = try entry.require("threshold_ratio")
                    config.volatilityRatioThreshold = try t.double()
                    guard config.volatilityRatioThreshold > 1, config.volatilityRatioThreshold <= 100 else {
                        throw ConfigError(t, "must be in (1, 100] (current volatility / its recent median); found \(t)")
                    }
                case .staleData:
                    let a = try entry.require("max_age_bars")
                    config.staleDataMaxAgeBars = try a.double()
                    guard config.staleDataMaxAgeBars > 0, config.staleDataMaxAgeBars <= 10_000 else {
                        throw ConfigError(a, "must be in (0, 10000] bar intervals; found \(a)")
                    }
                case .brokerConnectivity:
                    let f = try entry.require("max_failures")
                    config.brokerMaxFailures = try f.int()
                    guard (1...1000).contains(config.brokerMaxFailures) else {
                        throw ConfigError(f, "must be in 1...1000 consecutive failed venue calls; found \(f)")
                    }
                default: break
                }
            }
            return config
        } catch let e as ConfigError {
            throw e
        } catch let e as YAMLError {
            throw ConfigError(e)
        } catch {
            throw ConfigError(node, "\(error)")
        }
    }
}
