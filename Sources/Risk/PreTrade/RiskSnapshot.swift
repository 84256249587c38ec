/// The account as the pre-trade risk engine sees it when an order is checked.
///
///     RiskSnapshot(equity: 10_000, startOfDayEquity: 10_050, peakEquity: 10_400,
///                  positions: ["AAPL": 20, "EURUSD": -5_000], marks: ["AAPL": 190.5, "EURUSD": 1.0712],
///                  openOrders: 1, time: now)
public struct RiskSnapshot: Sendable, Equatable {
    public var equity: Double
    public var startOfDayEquity: Double
    public var peakEquity: Double
    /// Signed units by symbol (short < 0); zero entries are ignored.
    public var positions: [String: Double]
    /// Latest price by symbol (exposure and the price sanity band).
    public var marks: [String: Double]
    /// Working orders at the venue.
    public var openOrders: Int
    /// Milliseconds since the epoch.
    public var time: Int64

    public init(equity: Double, startOfDayEquity: Double, peakEquity: Double, positions: [String: Double],
                marks: [String: Double], openOrders: Int, time: Int64) {
        self.equity = equity
        self.startOfDayEquity = startOfDayEquity
        self.peakEquity = peakEquity
        self.positions = positions
        self.marks = marks
        self.openOrders = openOrders
        self.time = time
    }

    /// The signed position in `symbol` (0 when flat).
    public func position(_ symbol: String) -> Double { positions[symbol] ?? 0 }

    /// Symbols with a non-zero position.
    public var openSymbols: [String] { positions.filter { $0.value != 0 }.map(\.key).sorted() }
}
