import Common
import MarketData

/// The kind of market a symbol trades in — it fixes the trading calendar used to annualise per-bar statistics.
public enum MarketKind: String, Sendable, Equatable, CaseIterable {
    /// Foreign exchange: 24 hours, 5 days a week (260 trading days a year).
    case fx
    /// Crypto: 24 hours, 7 days a week (365 days).
    case crypto
    /// US equities: the 9:30–16:00 New York regular session, 252 days a year.
    case equities

    /// A guess from the symbol: six letters made of two ISO currencies (EURUSD) → fx; BTC/ETH/...USD(T) → crypto;
    /// anything else → equities.
    public static func guess(symbol: String) -> MarketKind {
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
}

/// How many bars make a year, for annualising volatility, Sharpe, Sortino and CAGR (empyrical's
/// `annualization` argument).
///
/// Convention: daily bars → trading days per year of the market (252 equities, 260 FX, 365 crypto); weekly → 52;
/// monthly → 12; intraday → trading days × bars per trading day, where a US-equities session of 6.5 h holds
/// `ceil(6.5 h / bar)` bars (7 hourly bars, 78 five-minute bars) and FX/crypto days hold 24 h of bars.
///
///     Annualization.periodsPerYear(timeframe: .h1, market: .fx)        // 6240
///     Annualization.periodsPerYear(timeframe: .d1, market: .equities)  // 252
public enum Annualization {
    public static func periodsPerYear(timeframe: Timeframe, market: MarketKind) -> Double {
        switch timeframe {
        case .d1: return market.tradingDaysPerYear
        case .w1: return 52
        case .mn1: return 12
        default:
            let barHours = Double(timeframe.milliseconds) / Double(UTCTime.msPerHour)
            return market.tradingDaysPerYear * (market.hoursPerDay / barHours).rounded(.up)
        }
    }
}
