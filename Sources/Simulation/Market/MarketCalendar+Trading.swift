import Common
import MarketData
import Trading

/// MarketData's calendars (FX 24x5, crypto 24x7, US equities with NYSE holidays) as the simulator's
/// `TradingCalendar`; `sessionDay(at:)` lives in `Trading` (the risk engine's daily counters use it too).
extension MarketCalendar: TradingCalendar {}
