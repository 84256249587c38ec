/// Buy-and-hold: whenever it is flat with no order working, buys the symbol with all available equity (whole
/// units, `.allEquity` — backtesting.py's `if not self.position: self.buy()`). The first order is decided at the
/// first bar's close and fills at the next bar's open, the first price any strategy of this backtester can trade
/// at; it is only repeated while the buy is rejected (equity below one unit's price plus commission). Then it
/// holds to the end of the data.
///
///     var hold = BuyAndHold()
///     let baseline = try Backtester(series: [bars], config: config).run(&hold)
public struct BuyAndHold: TradingStrategy, Sendable {
    /// Which symbol (index into the backtest's series) to hold.
    public var symbol: Int
    private var symbolName = ""

    public init(symbol: Int = 0) {
        self.symbol = symbol
    }

    public var name: String { "buy_and_hold" }
    public var parameters: [(String, String)] { [] }

    public mutating func prepare(_ setup: inout StrategySetup) throws {
        try ParameterError.check(symbol >= 0 && symbol < setup.symbols.count, "symbol", symbol,
                                 "must index one of the \(setup.symbols.count) series")
        symbolName = setup.symbols[symbol]
    }

    public mutating func onBar(_ market: MarketView, broker: inout some OrderRouting) {
        if broker.positionSize(symbolName) == 0, broker.workingOrders.isEmpty { broker.buy(symbolName) }
    }
}
