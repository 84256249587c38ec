import Common

/// What happens to positions still open when the data ends.
///
/// - `keepOpen` (default; backtesting.py's default): positions stay open, final equity marks them at the last
///   close, and they are reported as open lots, not as trades.
/// - `closeAtLastClose`: they are closed at the last bar's close, paying the exit commission, and reported as
///   trades with exit reason `end_of_data` — what a trader settling the book expects.
/// - `closeAtLastOpen`: backtesting.py's `finalize_trades=True` — a close order is processed once more against the
///   last bar, so they close at its OPEN price.
public enum EndOfDataPolicy: String, Sendable, Equatable {
    case keepOpen = "keep_open"
    case closeAtLastClose = "close_at_last_close"
    case closeAtLastOpen = "close_at_last_open"
}

/// Settings of one backtest run.
public struct BacktestConfig: Sendable {
    public var cash: Double
    public var models: ExecutionModels
    public var endOfData: EndOfDataPolicy
    /// Market calendars by symbol (sessions for DAY orders, `MarketSimulator.isMarketOpen`).
    public var calendars: [String: any TradingCalendar]
    /// Re-compute each declared indicator on this many sampled prefixes of the data and fail the run if a value
    /// differs from the one computed on the whole series (an indicator that looks ahead). 0 = off.
    public var lookAheadAudit: Int
    /// Report progress on stderr (`Common.ProgressReporter`: a bar on a terminal, a line every few seconds otherwise;
    /// nothing for a run that ends within a second).
    public var progress: Bool
    /// The ruin threshold as a fraction of the initial cash, in [0, 1): the run is ruined at the first bar close
    /// where equity ≤ `ruinFraction × cash` (see `BacktestResult.ruinIndex` for the definition and why 1 %).
    /// 0 makes ruin the same as a wipe-out (equity ≤ 0).
    public var ruinFraction: Double
    /// The first decision time (UTC ms): bars closing before it are history — the strategy sees them in its
    /// `MarketView` (indicator and model windows), but nothing is traded, filled or recorded before it, so the equity
    /// curve, trades and metrics cover [start, last bar] only. `Int64.min` (default): every bar is traded. The robot's
    /// `SimulationMode(start:)` positions its clock the same way (`MarketSimulator.start(at:)`).
    public var start: Int64 = .min

    /// The default ruin threshold: 1 % of the initial cash.
    public static let defaultRuinFraction = 0.01

    public init(cash: Double = 10_000, models: ExecutionModels = ExecutionModels(),
                endOfData: EndOfDataPolicy = .keepOpen, calendars: [String: any TradingCalendar] = [:],
                lookAheadAudit: Int = 8, progress: Bool = false, ruinFraction: Double = defaultRuinFraction) {
        self.cash = cash
        self.models = models
        self.endOfData = endOfData
        self.calendars = calendars
        self.lookAheadAudit = lookAheadAudit
        self.progress = progress
        self.ruinFraction = ruinFraction
    }

    /// Throws the first invalid value: cash not > 0 and finite, an invalid execution model
    /// (`ExecutionModels.validate()`), a look-ahead audit outside 0...1000 samples, a ruin fraction outside [0, 1).
    public func validate() throws(ParameterError) {
        try ParameterError.check(cash > 0 && cash.isFinite, "cash", cash, "must be > 0 and finite")
        try models.validate()
        try ParameterError.check((0...1000).contains(lookAheadAudit), "look_ahead_audit", lookAheadAudit,
                                 "must be 0...1000 (sampled prefixes)")
        try ParameterError.check(ruinFraction >= 0 && ruinFraction < 1, "ruin_fraction", ruinFraction,
                                 "a fraction of initial cash must be >= 0 and < 1")
    }
}

/// A backtest that cannot run: bad input or a strategy that looks ahead.
public enum BacktestError: Error, CustomStringConvertible, Equatable, Sendable {
    case noData
    case lookAhead(indicator: String, bar: Int, full: Double, prefix: Double)
    case strategy(String)
    /// A run setting or strategy parameter outside its domain.
    case invalidParameter(ParameterError)
    /// A bar the simulator cannot trade on: `index` in `symbol`'s series, opening at `time` (UTC ms).
    case invalidBar(symbol: String, index: Int, time: Int64, reason: String)

    public var description: String {
        switch self {
        case .noData: "no bars to backtest"
        case .invalidParameter(let e): "invalid parameter: \(e)"
        case .invalidBar(let symbol, let index, let time, let reason):
            "\(symbol) bar \(index) (\(UTCTime.iso8601(time))): \(reason)"
        case .lookAhead(let name, let bar, let full, let prefix):
            "indicator '\(name)' looks ahead: at bar \(bar) it is \(full) computed on the whole series but \(prefix) "
                + "computed on bars 0...\(bar) only"
        case .strategy(let m): m
        }
    }
}
