/// How an `MT5Broker` watches the account and the market: the poll behind `updates()` (MetaTrader pushes nothing to
/// a Python client) and the symbol behind `clock()` (MetaTrader has no market-wide clock).
///
///     let options = MT5BrokerOptions(pollInterval: 0.5, quoteSymbols: ["EURUSD", "GBPUSD"])
///     let broker = MT5Broker(source: source, options: options)   // clock() reads EURUSD
public struct MT5BrokerOptions: Sendable, Equatable {
    /// Seconds between two polls of the bridge while `updates()` has subscribers (0.01...3600).
    public var pollInterval: Double
    /// Symbols whose best bid/ask the update stream reports (`.quote`, when they change), read at every poll.
    public var quoteSymbols: [String]
    /// The symbol whose last tick and trade mode make `clock()`; nil: the first of `quoteSymbols`.
    public var clockSymbol: String?
    /// A last tick older than this many seconds means the symbol's market is closed (night session break, weekend,
    /// holiday): the Python package exposes no trading sessions, so the quote's age is the evidence.
    public var staleQuoteAfter: Double
    /// Updates kept for a subscriber that has not read them yet; past it the oldest are dropped (the stream is a
    /// convenience: `orders(openOnly:)` and `fills(since:)` stay the truth).
    public var bufferSize: Int

    public init(pollInterval: Double = 1, quoteSymbols: [String] = [], clockSymbol: String? = nil,
                staleQuoteAfter: Double = 300, bufferSize: Int = 1024) {
        // Configuration input: NaN and absurd values fall back to the defaults or clamp, never trap later.
        self.pollInterval = pollInterval.isFinite ? Swift.min(3600, Swift.max(0.01, pollInterval)) : 1
        self.quoteSymbols = quoteSymbols
        self.clockSymbol = clockSymbol
        self.staleQuoteAfter = staleQuoteAfter.isFinite && staleQuoteAfter > 0 ? Swift.min(staleQuoteAfter, 86_400 * 30) : 300
        self.bufferSize = Swift.min(1 << 20, Swift.max(1, bufferSize))
    }

    /// The symbol `clock()` reads, if any.
    var marketSymbol: String? { clockSymbol ?? quoteSymbols.first }
}
