import Common

/// Overnight financing (swap / borrow cost) on open positions.
///
/// At each daily rollover (`rolloverHourUTC`, e.g. 21 for FX's 17:00 New York in summer) crossed while a position
/// is open, the account is charged `|units| × price × annualRate / 365` — `longRate` for long positions,
/// `shortRate` for short ones. A negative rate is a credit. Weekend rollovers are charged one by one when bars
/// span them (a Friday-to-Monday gap crosses three rollovers in 24x7 time).
///
///     FinancingModel(longRate: 0.05, shortRate: 0.01).charge(units: 100_000, price: 1.1, rollovers: 1)   // 15.07
public struct FinancingModel: Sendable, Equatable {
    public var longRate: Double
    public var shortRate: Double
    public var rolloverHourUTC: Int

    public init(longRate: Double, shortRate: Double, rolloverHourUTC: Int = 0) {
        self.longRate = longRate
        self.shortRate = shortRate
        self.rolloverHourUTC = rolloverHourUTC
    }

    /// Throws unless both rates are finite (either sign: a negative rate is a credit) and the rollover hour is
    /// 0...23.
    public func validate() throws(ParameterError) {
        try ParameterError.check(longRate.isFinite, "financing.long_rate", longRate, "must be finite")
        try ParameterError.check(shortRate.isFinite, "financing.short_rate", shortRate, "must be finite")
        try ParameterError.check((0...23).contains(rolloverHourUTC), "financing.rollover_hour_utc", rolloverHourUTC,
                                 "must be an hour 0...23")
    }

    /// The cost (positive = paid) of holding `units` (signed) at `price` over `rollovers` rollovers.
    public func charge(units: Double, price: Double, rollovers: Int) -> Double {
        let rate = units >= 0 ? longRate : shortRate
        return abs(units) * price * rate / 365 * Double(rollovers)
    }

    /// How many rollover instants lie in `(from, to]`.
    public func rollovers(from: Int64, to: Int64) -> Int {
        guard to > from else { return 0 }
        let shift = Int64(rolloverHourUTC) * UTCTime.msPerHour
        return Int(UTCTime.floorDiv(to - shift, UTCTime.msPerDay) - UTCTime.floorDiv(from - shift, UTCTime.msPerDay))
    }
}
