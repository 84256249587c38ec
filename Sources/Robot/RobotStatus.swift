import Trading

/// Where the robot stands: after each cycle, in `aitrader robot status`, and at the end of a session.
public struct RobotStatus: Sendable, Equatable, Codable {
    public var mode: String
    public var symbols: [String]
    public var running: Bool
    /// Bar close of the latest completed cycle (nil before the first).
    public var lastCycleTime: Int64?
    public var cycles: Int
    public var balance: Double
    public var equity: Double
    /// What new positions may still use (the venue's figure).
    public var buyingPower: Double = 0
    /// Equity − start-of-day equity, and drawdown from the peak (fraction).
    public var dailyPnL: Double?
    public var drawdown: Double?
    public var positions: [PositionReport]
    public var openOrders: Int
    public var ordersSubmitted: Int
    public var ordersRejectedByRisk: Int
    public var fills: Int
    /// Tripped breakers with their reasons.
    public var breakers: [String]
    /// The latest signal per symbol, in words.
    public var lastSignals: [String: String]
    /// Cycle latency, bar close seen → orders sent (ms): median and 99th percentile over this run.
    public var latencyMedianMs: Double?
    public var latencyP99Ms: Double?
    /// The latest cycle's latency (ms), for the monitor's histogram.
    public var lastCycleLatencyMs: Double?
    /// Age of the newest data at the latest cycle (ms; 0 in a simulation, which runs on the data's own clock, unless
    /// prediction calls fail: then the newest prediction's age).
    public var dataAgeMs: Int64?
    /// The latest cycle problem, with its bar close (a failed prediction call); nil once predictions succeed again.
    public var lastProblem: String?
    /// The kinds of the tripped breakers (`BreakerKind` raw values).
    public var trippedBreakers: [String]?

    public init(mode: String, symbols: [String]) {
        self.mode = mode
        self.symbols = symbols
        running = false
        cycles = 0
        balance = 0
        equity = 0
        positions = []
        openOrders = 0
        ordersSubmitted = 0
        ordersRejectedByRisk = 0
        fills = 0
        breakers = []
        lastSignals = [:]
    }
}
