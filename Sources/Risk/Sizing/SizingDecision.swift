/// The outcome of `PositionSizer.size`: how many units, and why that many.
///
///     SizingDecision(units: 50, kellyFraction: 0.4, appliedFraction: 0.01, riskAmount: 100, notional: 5_000,
///                    cappedBy: "risk_per_trade", explanation: "p = 0.6, payoff 2: Kelly 0.4 × 0.25 = 0.1; ...")
public struct SizingDecision: Sendable, Equatable, Codable {
    /// Units to trade, ≥ 0 and on the instrument's quantity step (0 = do not trade). The side follows the stop.
    public var units: Double
    /// The full Kelly fraction f* = p − (1 − p) / b (before the profile's `kellyFraction` and caps).
    public var kellyFraction: Double
    /// Fraction of equity lost if the stop is hit, after caps and rounding (`riskAmount / equity`).
    public var appliedFraction: Double
    /// Currency lost at the stop: units × |entry − stop|.
    public var riskAmount: Double
    /// units × entry.
    public var notional: Double
    /// What limited the size: "risk_per_trade", "max_exposure", "instrument_minimum", "no_edge",
    /// "min_confidence", "invalid_input"; nil = fractional Kelly itself.
    public var cappedBy: String?
    /// The arithmetic in words, for the journal and the user.
    public var explanation: String

    public init(units: Double, kellyFraction: Double, appliedFraction: Double, riskAmount: Double, notional: Double,
                cappedBy: String?, explanation: String = "") {
        self.units = units
        self.kellyFraction = kellyFraction
        self.appliedFraction = appliedFraction
        self.riskAmount = riskAmount
        self.notional = notional
        self.cappedBy = cappedBy
        self.explanation = explanation
    }
}
