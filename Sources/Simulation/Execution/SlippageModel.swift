/// How far a fill price moves against the trader, relative to the reference price (open, stop or limit).
///
/// Buys fill higher, sells lower. Limit prices are never made worse than the limit by slippage (a limit order
/// guarantees its price), so slippage applies to market and triggered stop fills only.
///
///     SlippageModel.fixedBps(2).price(100, side: .buy, atr: nil)          // 100.02
///     SlippageModel.halfSpread(0.0002).price(1.1, side: .sell, atr: nil)  // 1.0999 (pays half the spread)
///     SlippageModel.atr(multiple: 0.1).price(100, side: .buy, atr: 2)     // 100.2
public enum SlippageModel: Sendable, Equatable {
    case none
    /// A fixed number of basis points of the price.
    case fixedBps(Double)
    /// Half of a quoted spread, in price units: a bid/ask fill from mid prices.
    case halfSpread(Double)
    /// `multiple` times the ATR (Wilder, `period` bars, from closed bars only) — slippage grows with volatility.
    case atr(multiple: Double, period: Int = 14)

    /// The fill price for `side` at `reference`, given the current ATR (needed by `.atr` only; nil means 0).
    public func price(_ reference: Double, side: OrderSide, atr: Double?) -> Double {
        switch self {
        case .none: return reference
        case .fixedBps(let bps): return reference * (1 + side.sign * bps / 10_000)
        case .halfSpread(let spread): return reference + side.sign * spread / 2
        case .atr(let multiple, _): return reference + side.sign * multiple * (atr ?? 0)
        }
    }

    /// Throws unless the slippage worsens prices by a valid amount: bps in [0, 10 000) (10 000 bps would sell at
    /// 0), a half spread and an ATR multiple >= 0 and finite, an ATR period >= 1. Negative slippage would improve
    /// every fill.
    public func validate() throws(ParameterError) {
        switch self {
        case .none: break
        case .fixedBps(let bps):
            try ParameterError.check(bps >= 0 && bps < 10_000, "slippage.bps", bps, "must be >= 0 and < 10000")
        case .halfSpread(let spread):
            try ParameterError.check(spread >= 0 && spread.isFinite, "slippage.spread", spread,
                                     "must be >= 0 and finite")
        case .atr(let multiple, let period):
            try ParameterError.check(multiple >= 0 && multiple.isFinite, "slippage.multiple", multiple,
                                     "must be >= 0 and finite")
            try ParameterError.check(period >= 1, "slippage.period", period, "must be >= 1")
        }
    }

    /// The ATR period this model needs, if any.
    public var atrPeriod: Int? {
        if case .atr(_, let period) = self { return period }
        return nil
    }
}
