/// When an order reaches the market.
///
/// A decision taken at a bar's close can never fill before the next bar's open (the backtester enforces this for
/// every order). On top of that, `milliseconds` of latency make the order eligible only for bars that open at or
/// after `decision time + milliseconds`: with hourly bars, 300 ms still fills at the next open; with 1-minute
/// bars, 90 000 ms skips one bar and fills at the open of the one after.
public struct LatencyModel: Sendable, Equatable {
    public var milliseconds: Int64

    public init(milliseconds: Int64 = 0) {
        precondition(milliseconds >= 0, "latency must be >= 0")
        self.milliseconds = milliseconds
    }

    /// The earliest bar-open time at which an order decided at `time` may fill.
    public func activeFrom(decisionTime time: Int64) -> Int64 { time + milliseconds }
}
