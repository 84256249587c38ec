import MarketData

/// The kind of market an instrument trades in — it fixes the trading calendar (sessions, DAY-order expiry, the
/// number of bars in a year for annualised statistics). (Called `AssetClass` before the `Trading` module.)
public enum AssetClass: String, Sendable, Equatable, Hashable, CaseIterable, Codable {
    /// Foreign exchange: 24 hours, 5 days a week (260 trading days a year).
    case fx
    /// Crypto: 24 hours, 7 days a week (365 days).
    case crypto
    /// US equities: the 9:30–16:00 New York regular session, 252 days a year.
    case equities

    /// A guess from the symbol: six letters made of two ISO currencies (EURUSD) → fx; BTC/ETH/...USD(T) → crypto;
    /// anything else → equities.
    public static func guess(symbol: String) -> AssetClass {
        let s = symbol.uppercased().replacingOccurrences(of: "/", with: "").replacingOccurrences(of: "-", with: "")
        let cryptoBases = ["BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "LTC", "BNB", "DOT", "AVAX", "LINK", "XBT"]
        if cryptoBases.contains(where: { s.hasPrefix($0) }) { return .crypto }
        let currencies: Set<String> = ["USD", "EUR", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK",
                                       "HKD", "SGD", "MXN", "ZAR", "TRY", "PLN", "CNH", "HUF", "CZK"]
        if s.count == 6, s.allSatisfy(\.isLetter), currencies.contains(String(s.prefix(3))),
           currencies.contains(String(s.suffix(3))) { return .fx }
        return .equities
    }

    public var tradingDaysPerYear: Double {
        switch self {
        case .fx: 260
        case .crypto: 365
        case .equities: 252
        }
    }

    /// Trading hours per trading day.
    public var hoursPerDay: Double { self == .equities ? 6.5 : 24 }

    /// The trading calendar of this kind of market.
    public var calendar: MarketCalendar {
        switch self {
        case .fx: .fx
        case .crypto: .crypto
        case .equities: .usEquities
        }
    }
}
