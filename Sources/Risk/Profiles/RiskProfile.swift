/// A risk profile: how much of equity one trade may lose, how big the book may get, and when trading stops.
/// `conservative`, `moderate` and `aggressive` ship in configs/risk_profiles.yaml (and as `RiskProfiles.builtIn`).
///
/// The backtester uses the first three fields (`positionFraction`, `maxLeverage`, `stopATRMultiple`); the robot's
/// `PositionSizer`, `PreTradeRiskEngine` and `CircuitBreakers` use the rest.
///
///     moderate: risk 1 % of equity per trade, at most 5 positions, gross exposure <= 2 x equity,
///               stop trading for the day at a 3 % loss, for good at a 15 % drawdown from the peak,
///               trade only when p >= 0.60, quarter Kelly, stop 2 ATR, target 2.5 ATR
public struct RiskProfile: Sendable, Equatable, Codable {
    public var name: String
    /// Fraction of available equity committed per position (0, 1] (backtester's `--sizing risk`).
    public var positionFraction: Double
    /// The simulated account's margin leverage (backtester).
    public var maxLeverage: Double
    /// Stop-loss distance as a multiple of ATR(14); nil = no protective stop.
    public var stopATRMultiple: Double?
    /// Fraction of equity lost when a trade's stop is hit — the cap on the Kelly fraction (0, 0.25].
    public var riskPerTrade: Double
    /// Open positions (distinct symbols) at most.
    public var maxPositions: Int
    /// Gross exposure (sum of |units x mark|) over equity, at most.
    public var maxExposure: Double
    /// Loss from start-of-day equity, as a fraction of it, that trips the daily-loss breaker (0, 1).
    public var dailyLossLimit: Double
    /// Drawdown from peak equity, as a fraction of the peak, that trips the drawdown breaker (0, 1).
    public var maxDrawdown: Double
    /// The calibrated probability a signal needs before it is traded [0.5, 1).
    public var minConfidence: Double
    /// The share of the full Kelly fraction staked (0, 1]: 0.25 = quarter Kelly.
    public var kellyFraction: Double
    /// Take-profit distance as a multiple of ATR(14); nil = no target.
    public var takeProfitATRMultiple: Double?
    /// Losing trades in a row that trip the consecutive-losses breaker.
    public var maxConsecutiveLosses: Int
    /// Orders the throttle admits in any rolling 60 seconds.
    public var maxOrdersPerMinute: Int

    public init(name: String, positionFraction: Double, maxLeverage: Double, stopATRMultiple: Double?,
                riskPerTrade: Double, maxPositions: Int, maxExposure: Double, dailyLossLimit: Double,
                maxDrawdown: Double, minConfidence: Double, kellyFraction: Double, takeProfitATRMultiple: Double?,
                maxConsecutiveLosses: Int, maxOrdersPerMinute: Int) {
        self.name = name
        self.positionFraction = positionFraction
        self.maxLeverage = maxLeverage
        self.stopATRMultiple = stopATRMultiple
        self.riskPerTrade = riskPerTrade
        self.maxPositions = maxPositions
        self.maxExposure = maxExposure
        self.dailyLossLimit = dailyLossLimit
        self.maxDrawdown = maxDrawdown
        self.minConfidence = minConfidence
        self.kellyFraction = kellyFraction
        self.takeProfitATRMultiple = takeProfitATRMultiple
        self.maxConsecutiveLosses = maxConsecutiveLosses
        self.maxOrdersPerMinute = maxOrdersPerMinute
    }

    /// Every field's requirement, by its configs/risk_profiles.yaml key. `RiskProfiles.load` reports a failure with
    /// the file:line:column of the value; `validate()` with the key.
    static let rules: [(key: String, requirement: String, holds: @Sendable (RiskProfile) -> Bool)] = [
        ("position_fraction", "must be in (0, 1]", { $0.positionFraction > 0 && $0.positionFraction <= 1 }),
        ("max_leverage", "must be > 0 and finite", { $0.maxLeverage > 0 && $0.maxLeverage.isFinite }),
        ("stop_atr_multiple", "must be > 0 and finite (or null: no stop)",
         { $0.stopATRMultiple.map { $0 > 0 && $0.isFinite } ?? true }),
        ("risk_per_trade", "must be in (0, 0.25] (a fraction of equity: 0.01 = 1 %)",
         { $0.riskPerTrade > 0 && $0.riskPerTrade <= 0.25 }),
        ("max_positions", "must be in 1...1000", { (1...1000).contains($0.maxPositions) }),
        ("max_exposure", "must be > 0 and at most 100 (gross exposure / equity)",
         { $0.maxExposure > 0 && $0.maxExposure <= 100 }),
        ("daily_loss_limit", "must be in (0, 1) (a fraction of start-of-day equity: 0.03 = 3 %)",
         { $0.dailyLossLimit > 0 && $0.dailyLossLimit < 1 }),
        ("max_drawdown", "must be in (0, 1) (a fraction of peak equity: 0.15 = 15 %)",
         { $0.maxDrawdown > 0 && $0.maxDrawdown < 1 }),
        ("min_confidence", "must be in [0.5, 1) (a calibrated probability)",
         { $0.minConfidence >= 0.5 && $0.minConfidence < 1 }),
        ("kelly_fraction", "must be in (0, 1] (0.25 = quarter Kelly)",
         { $0.kellyFraction > 0 && $0.kellyFraction <= 1 }),
        ("take_profit_atr_multiple", "must be > 0 and finite (or null: no target)",
         { $0.takeProfitATRMultiple.map { $0 > 0 && $0.isFinite } ?? true }),
        ("max_consecutive_losses", "must be in 1...1000", { (1...1000).contains($0.maxConsecutiveLosses) }),
        ("max_orders_per_minute", "must be in 1...10000", { (1...10_000).contains($0.maxOrdersPerMinute) }),
    ]

    /// Checks every field (the same rules `RiskProfiles.load` applies with file:line), for profiles built in code.
    public func validate() throws(RiskProfileError) {
        for rule in Self.rules where !rule.holds(self) {
            throw RiskProfileError(profile: name, key: rule.key, requirement: rule.requirement)
        }
    }
}

/// A risk profile built in code with a value out of range.
public struct RiskProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var profile: String
    public var key: String
    public var requirement: String
    public var description: String { "risk profile '\(profile)': '\(key)' \(requirement)" }
}
