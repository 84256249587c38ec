import Trading

/// How many units one trade gets: fractional Kelly on the signal's win probability and its stop/target payoff,
/// capped by the profile's risk per trade and maximum exposure, rounded to the instrument's quantity step.
///
///     b     = |target − entry| / |entry − stop|            payoff: won per unit risked
///     f*    = p − (1 − p) / b, clamped ≥ 0                 full Kelly fraction
///     f     = kellyFraction × f*                           fractional Kelly
///     risk  = min(f, riskPerTrade)                         fraction of equity lost at the stop
///     units = roundedQuantity(equity × risk / |entry − stop|), then at most
///             roundedQuantity(maxExposure × equity / entry)
///
/// Worked example (moderate: riskPerTrade 1 %, quarter Kelly, maxExposure 2): equity 10 000, long at 100,
/// stop 98 (2 ATR of 1.00), target 104, p = 0.6 → b = 4 / 2 = 2, f* = 0.6 − 0.4 / 2 = 0.4, f = 0.25 × 0.4 = 0.1,
/// capped to 0.01 → 100.00 at risk → 100 / 2 = 50 shares, notional 5 000 (≤ 20 000) → `SizingDecision(units: 50,
/// kellyFraction: 0.4, appliedFraction: 0.01, riskAmount: 100, notional: 5 000, cappedBy: "risk_per_trade")`.
///
/// Prices are in the instrument's quote currency and equity is taken to be in the same currency (the robot
/// converts before calling). A signal below the profile's `minConfidence`, or bad input (non-finite numbers,
/// equity ≤ 0, a stop equal to the entry, a target on the stop's side, p outside [0, 1]), sizes to 0 units with the
/// cause in `cappedBy` ("min_confidence", "invalid_input") and `explanation` — never a trap.
public struct PositionSizer: Sendable {
    public var profile: RiskProfile

    public init(profile: RiskProfile) {
        self.profile = profile
    }

    /// The full Kelly fraction f* = p − (1 − p) / b of a bet won with probability `pWin` paying `payoff` per unit
    /// staked, clamped at 0 (no edge: do not bet). 0 for p or b out of range or not finite.
    ///
    ///     PositionSizer.kellyFraction(pWin: 0.6, payoff: 2)    // 0.4
    ///     PositionSizer.kellyFraction(pWin: 0.5, payoff: 1)    // 0 (no edge)
    public static func kellyFraction(pWin: Double, payoff: Double) -> Double {
        guard pWin.isFinite, payoff.isFinite, payoff > 0, pWin >= 0, pWin <= 1 else { return 0 }
        return max(0, pWin - (1 - pWin) / payoff)
    }

    /// Sizes a trade entering at `entryPrice` with a protective stop at `stopPrice` and a target at
    /// `takeProfitPrice` (long when the stop is below the entry, short when above); `pWin` is the calibrated
    /// probability of reaching the target first. `units` is always ≥ 0 — the side follows from the stop.
    public func size(equity: Double, entryPrice: Double, stopPrice: Double, takeProfitPrice: Double, pWin: Double,
                     instrument: Instrument) -> SizingDecision {
        func none(_ cause: String, _ why: String, kelly: Double = 0) -> SizingDecision {
            SizingDecision(units: 0, kellyFraction: kelly, appliedFraction: 0, riskAmount: 0, notional: 0,
                           cappedBy: cause, explanation: why)
        }
        guard equity.isFinite, equity > 0 else { return none("invalid_input", "equity \(equity) is not > 0") }
        guard entryPrice.isFinite, entryPrice > 0, stopPrice.isFinite, stopPrice > 0,
              takeProfitPrice.isFinite, takeProfitPrice > 0 else {
            return none("invalid_input", "prices must be finite and > 0 (entry \(entryPrice), stop \(stopPrice), "
                        + "target \(takeProfitPrice))")
        }
        guard pWin.isFinite, pWin >= 0, pWin <= 1 else {
            return none("invalid_input", "win probability \(pWin) is not in [0, 1]")
        }
        let stopDistance = abs(entryPrice - stopPrice)
        let long = stopPrice < entryPrice
        guard stopDistance > 0, long ? takeProfitPrice > entryPrice : takeProfitPrice < entryPrice else {
            return none("invalid_input", "stop \(stopPrice) and target \(takeProfitPrice) must lie on opposite "
                        + "sides of the entry \(entryPrice)")
        }
        let payoff = abs(takeProfitPrice - entryPrice) / stopDistance
        let fullKelly = Self.kellyFraction(pWin: pWin, payoff: payoff)
        guard pWin >= profile.minConfidence else {
            return none("min_confidence", "p = \(fmt(pWin)) is below the profile's minimum confidence "
                        + "\(fmt(profile.minConfidence))", kelly: fullKelly)
        }
        guard fullKelly > 0 else {
            return none("no_edge", "no edge: p = \(fmt(pWin)) at payoff \(fmt(payoff)) gives Kelly "
                        + "\(fmt(pWin - (1 - pWin) / payoff)) ≤ 0", kelly: fullKelly)
        }
        let kelly = profile.kellyFraction * fullKelly
        var cappedBy: String? = nil
        var riskFraction = kelly
        if kelly > profile.riskPerTrade {
            riskFraction = profile.riskPerTrade
            cappedBy = "risk_per_trade"
        }
        var units = instrument.roundedQuantity(equity * riskFraction / stopDistance)
        let maxUnits = instrument.roundedQuantity(profile.maxExposure * equity / entryPrice)
        if units > maxUnits {
            units = maxUnits
            cappedBy = "max_exposure"
        }
        guard units > 0 else {
            return none("instrument_minimum", "\(fmt(equity * riskFraction / stopDistance)) units is below the "
                        + "instrument's minimum \(fmt(instrument.minimumQuantity)) of \(instrument.symbol)",
                        kelly: fullKelly)
        }
        let risk = units * stopDistance
        let explanation = "p = \(fmt(pWin)), payoff \(fmt(payoff)): Kelly \(fmt(fullKelly)) × \(fmt(profile.kellyFraction))"
            + " = \(fmt(kelly)); risking \(RiskFormat.percent(risk / equity)) of equity \(RiskFormat.money(equity))"
            + " = \(RiskFormat.money(risk)) over a stop distance of \(fmt(stopDistance)) → \(fmt(units)) units"
            + (cappedBy.map { " (capped by \($0))" } ?? "")
        return SizingDecision(units: units, kellyFraction: fullKelly, appliedFraction: risk / equity, riskAmount: risk,
                              notional: units * entryPrice, cappedBy: cappedBy, explanation: explanation)
    }

    private func fmt(_ x: Double) -> String { RiskFormat.number(x) }
}
