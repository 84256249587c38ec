import MarketData

extension Backtester {
    /// Checks everything a run takes from the user before simulating anything: the settings
    /// (`BacktestConfig.validate()`) and every bar of every series. `run` calls it first; a command-line front end
    /// may call it earlier to report a bad value without running.
    ///
    /// Bars must have timestamps strictly increasing and open, high, low and close finite and > 0 (the simulator
    /// sizes orders, charges commission and compounds returns on prices; a price of 0 or below has no meaning
    /// there), volume finite and >= 0. `BarSeries(validating:)` and the CSV reader already guarantee part of this
    /// for series they build; series assembled in code are checked here.
    ///
    ///     try Backtester(series: [bars], config: BacktestConfig(cash: 0)).validate()
    ///     // throws BacktestError.invalidParameter: cash = 0: must be > 0 and finite
    public func validate() throws(BacktestError) {
        do { try config.validate() } catch { throw .invalidParameter(error) }
        for bars in series { try Self.check(bars) }
    }

    /// Throws `BacktestError.invalidBar` at the first bar the simulator cannot trade on.
    static func check(_ bars: BarSeries) throws(BacktestError) {
        func bad(_ i: Int, _ reason: String) -> BacktestError {
            .invalidBar(symbol: bars.symbol, index: i, time: bars.timestamps[i], reason: reason)
        }
        for i in 0..<bars.count {
            if i > 0, bars.timestamps[i] <= bars.timestamps[i - 1] {
                throw bad(i, "timestamp not after the previous bar's")
            }
            let o = bars.open[i], h = bars.high[i], l = bars.low[i], c = bars.close[i]
            if !(o > 0 && h > 0 && l > 0 && c > 0 && o.isFinite && h.isFinite && l.isFinite && c.isFinite) {
                let (name, v) = !(o > 0 && o.isFinite) ? ("open", o) : !(h > 0 && h.isFinite) ? ("high", h)
                    : !(l > 0 && l.isFinite) ? ("low", l) : ("close", c)
                throw bad(i, "\(name) = \(ParameterError.text(v)): prices must be > 0 and finite")
            }
            let v = bars.volume[i]
            if !(v >= 0 && v.isFinite) { throw bad(i, "volume = \(ParameterError.text(v)): must be >= 0 and finite") }
        }
    }
}
