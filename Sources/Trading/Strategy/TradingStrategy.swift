/// A strategy — or the trading robot — as the backtester (and live trading) drives it.
///
/// `prepare` runs once with the whole data set for declaring indicators; `onBar` runs after every bar close with
/// a view of closed bars only and the broker to trade through. Orders submitted in `onBar` reach the market at
/// the next bar's open at the earliest.
public protocol TradingStrategy {
    var name: String { get }
    /// Strategy parameters for reports (`["fast": "10", "slow": "20"]`).
    var parameters: [(String, String)] { get }
    mutating func prepare(_ setup: inout StrategySetup) throws
    mutating func onBar(_ market: MarketView, broker: inout some OrderRouting)
}
