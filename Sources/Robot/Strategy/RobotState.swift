import Models
import Risk
import Trading

/// Everything the robot carries from one cycle to the next, journaled (as JSON) at the end of every cycle so a
/// restarted robot continues exactly where the last completed cycle left it: breakers (tripped state survives a
/// restart), daily counters, the order throttle, the next order id, and the predictions and outcomes the dynamic
/// weights learn from.
public struct RobotState: Sendable, Equatable, Codable {
    public var cycles = 0
    /// The local id the next order gets (client order ids derive from it).
    public var nextOrderID = 0
    public var day: DailyCounters?
    public var breakers: CircuitBreakers
    public var throttle: OrderThrottle
    /// Balance and signed positions at the end of the previous cycle (to see trades close).
    public var lastBalance: Double?
    public var lastPositions: [String: Double] = [:]
    /// The previous cycle's prediction and close per symbol (scored when the next bar closes).
    public var lastPredictions: [String: EnsemblePrediction] = [:]
    public var lastCloses: [String: Double] = [:]
    /// The latest outcomes given to the forecaster, oldest first (replayed into a fresh forecaster on restart).
    public var outcomes: [Outcome] = []
    /// Set by the runner before each cycle: consecutive failed venue calls, and the age of the newest data (ms).
    public var brokerFailures = 0
    public var dataAge: Int64 = 0
    /// The bar close of the first of the prediction calls failing in a row (nil: the last call succeeded).
    public var predictionsFailingSince: Int64?
    /// Counters for status lines and the closing report.
    public var ordersSubmitted = 0
    public var ordersRejectedByRisk = 0
    public var signalsByAction: [String: Int] = [:]

    /// Outcomes kept: enough for the weight calculator's lookback (each outcome scores every model).
    public static let outcomesKept = 64

    public struct Outcome: Sendable, Equatable, Codable {
        public var symbol: String
        public var prediction: EnsemblePrediction
        public var realizedReturn: Double
    }

    public init(breakers: CircuitBreakers, throttle: OrderThrottle) {
        self.breakers = breakers
        self.throttle = throttle
    }
}
