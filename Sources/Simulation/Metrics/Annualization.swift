import Common
import MarketData

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
    public static func periodsPerYear(timeframe: Timeframe, market: AssetClass) -> Double {
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
