/// When an order reaches the market.
///
/// A decision taken at a bar's close can never fill before the next bar's open (the backtester enforces this for
/// every order). On top of that, `milliseconds` of latency make the order eligible only for bars that open at or
/// after `decision time + milliseconds`: with hourly bars, 300 ms still fills at the next open; with 1-minute
/// bars, 90 000 ms skips one bar and fills at the open of the one after.
public struct LatencyModel: Sendable, Equatable {
    public var milliseconds: Int64

    /// Any value is stored; `validate()` (called by `Backtester.run`) rejects negative ones.
    public init(milliseconds: Int64 = 0) {
        self.milliseconds = milliseconds
    }

    /// Throws unless `milliseconds >= 0` (an order cannot reach the market before it was decided).
    public func validate() throws(ParameterError) {
        try ParameterError.check(milliseconds >= 0, "latency_ms", milliseconds, "must be >= 0")
    }

    /// The earliest bar-open time at which an order decided at `time` may fill (saturating: a latency beyond the
    /// end of time means never).
    public func activeFrom(decisionTime time: Int64) -> Int64 {
        let (t, overflow) = time.addingReportingOverflow(milliseconds)
        return overflow ? (milliseconds > 0 ? .max : .min) : t
    }
}
