/// What the broker charges for a fill of `units` at `price`, in account currency.
///
/// Commission is charged on every trade leg — when a position lot is opened and again when it is closed — as
/// backtesting.py does; a reversal (close long + open short in one order) therefore pays two legs.
///
///     CommissionModel.fractionOfNotional(0.002).commission(units: 100, price: 50)   // 10   (20 bps)
///     CommissionModel.perUnit(0.005, minimum: 1).commission(units: 100, price: 50)  // 1    (0.5 ¢/share, $1 min)
///     CommissionModel.perLot(3.5, lotSize: 100_000, minimum: 0).commission(units: 250_000, price: 1.1)  // 8.75
public enum CommissionModel: Sendable, Equatable {
    case none
    /// A fraction of traded value (`0.002` = 20 bps = backtesting.py's `commission=0.002`).
    case fractionOfNotional(Double)
    /// A fixed amount per unit (share), with a minimum per leg.
    case perUnit(Double, minimum: Double)
    /// A fixed amount per lot (FX: 100 000 units), pro rata for fractional lots, with a minimum per leg.
    case perLot(Double, lotSize: Double, minimum: Double)

    public func commission(units: Double, price: Double) -> Double {
        let q = abs(units)
        switch self {
        case .none: return 0
        case .fractionOfNotional(let f): return q * price * f
        case .perUnit(let rate, let minimum): return q == 0 ? 0 : max(minimum, q * rate)
        case .perLot(let rate, let lotSize, let minimum): return q == 0 ? 0 : max(minimum, q / lotSize * rate)
        }
    }

    /// Throws unless every amount is a valid charge: a fraction of traded value in [0, 1), per-unit and per-lot
    /// rates and minimums >= 0 and finite, a lot size > 0. A negative commission would pay the trader for trading.
    public func validate() throws(ParameterError) {
        switch self {
        case .none: break
        case .fractionOfNotional(let f):
            try ParameterError.check(f >= 0 && f < 1, "commission.rate", f,
                                     "a fraction of traded value must be >= 0 and < 1")
        case .perUnit(let rate, let minimum):
            try ParameterError.check(rate >= 0 && rate.isFinite, "commission.rate", rate, "must be >= 0 and finite")
            try ParameterError.check(minimum >= 0 && minimum.isFinite, "commission.minimum", minimum,
                                     "must be >= 0 and finite")
        case .perLot(let rate, let lotSize, let minimum):
            try ParameterError.check(rate >= 0 && rate.isFinite, "commission.rate", rate, "must be >= 0 and finite")
            try ParameterError.check(lotSize > 0 && lotSize.isFinite, "commission.lot_size", lotSize,
                                     "must be > 0 and finite")
            try ParameterError.check(minimum >= 0 && minimum.isFinite, "commission.minimum", minimum,
                                     "must be >= 0 and finite")
        }
    }

    /// The commission per unit the sizing of an equity-fraction order assumes, computed as backtesting.py does
    /// (`commission(fraction, price) / fraction`) so whole-unit sizes agree to the last bit. Minimums are
    /// enforced afterwards by `Account.affordableUnits`.
    func sizingCommissionPerUnit(price: Double, fraction: Double) -> Double {
        switch self {
        case .none: return 0
        case .fractionOfNotional(let f): return fraction * price * f / fraction
        case .perUnit(let rate, _): return rate
        case .perLot(let rate, let lotSize, _): return rate / lotSize
        }
    }
}
