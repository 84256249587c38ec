import Risk
import Trading

/// What the robot trades and under which rules.
public struct RobotSettings: Sendable, Equatable {
    /// The symbols traded, in the order decisions are made (each must have a series in the market view).
    public var symbols: [String]
    public var instruments: [String: Instrument]
    public var profile: RiskProfile
    public var breakers: BreakerConfig
    /// ATR for stops: period, and the trailing bars it is computed over (identical in every mode).
    public var atrPeriod = 14
    public var atrWindow = 250
    /// Volatility-spike input: std of the last `volatilityWindow` log returns over the median of that std across
    /// the trailing `volatilityHistory` bars.
    public var volatilityWindow = 20
    public var volatilityHistory = 250
    /// Sizing keeps a position's notional within this share of what the venue's leverage allows (the entry fills at
    /// the next open, with slippage and commission, not at the close it was sized at).
    public var marginHeadroom = 0.98

    public init(symbols: [String], profile: RiskProfile, breakers: BreakerConfig = .builtIn,
                instruments: [String: Instrument] = [:]) {
        self.symbols = symbols
        self.profile = profile
        self.breakers = breakers
        var all = instruments
        for s in symbols where all[s] == nil { all[s] = Instrument.guess(symbol: s) }
        self.instruments = all
    }

    /// The profile sizing uses: exposure capped by the leverage the venue grants (`maxLeverage`) with headroom.
    public var sizingProfile: RiskProfile {
        var p = profile
        p.maxExposure = min(profile.maxExposure, profile.maxLeverage) * marginHeadroom
        return p
    }

    /// The asset class the daily counters follow (the first symbol's).
    public var assetClass: AssetClass { symbols.first.flatMap { instruments[$0]?.assetClass } ?? .equities }
}
