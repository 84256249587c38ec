/// The circuit breakers. Each stops new risk (only orders that reduce or close a position pass the
/// `PreTradeRiskEngine`) until its cool-down has passed and its condition has cleared.
///
/// | Breaker | Trips when | Clears when |
/// |---|---|---|
/// | `dailyLoss` | equity fell >= `dailyLossLimit` of start-of-day equity | a new session day has begun (and its cool-down passed) |
/// | `consecutiveLosses` | >= `maxConsecutiveLosses` losing trades in a row | its cool-down passed (the streak then counts from 0) |
/// | `drawdown` | equity fell >= `maxDrawdown` from its peak | drawdown < limit after the cool-down; by default manual reset only |
/// | `volatilitySpike` | realised vol / its recent median >= threshold | the ratio is below the threshold |
/// | `staleData` | the newest bar is older than `maxAgeBars` bar intervals | fresh data again |
/// | `brokerConnectivity` | >= `maxFailures` venue calls in a row failed | a venue call succeeded |
public enum BreakerKind: String, Codable, CaseIterable, Sendable, CodingKeyRepresentable, Comparable {
    case dailyLoss = "daily_loss"
    case consecutiveLosses = "consecutive_losses"
    case drawdown
    case volatilitySpike = "volatility_spike"
    case staleData = "stale_data"
    case brokerConnectivity = "broker_connectivity"

    public static func < (a: BreakerKind, b: BreakerKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
