import Common
import MarketData

/// The bars a model trains on, from the bar store: stored at the wanted timeframe, or resampled from the
/// coarsest stored timeframe that tiles it (a store holding 1h bars gives 4h and 1d bars). A timeframe finer
/// than anything stored is an error that says so and what to do.
///
///     let bars = try TrainingBars.load(store: store, symbol: "EURUSD", timeframe: .h4, purpose: "trader profile")
///     bars.timeframe   // .h4 (resampled from 1h when only 1h is stored)
public enum TrainingBars {
    public static func load(store: ParquetBarStore, symbol: String, timeframe: Timeframe,
                            purpose: String) throws(TrainingError) -> BarSeries {
        let stored: [Timeframe]
        do { stored = try store.datasets().filter { $0.symbol == symbol }.map(\.timeframe).sorted() }
        catch { throw .data("\(symbol): cannot list the bar store: \(error)") }
        guard !stored.isEmpty else {
            throw .data("no \(symbol) bars in the store; import some first (aitrader data import --symbol \(symbol) ...)")
        }
        // The exact timeframe, else the coarsest stored one that resamples to it (fewest bars to read).
        guard let source = stored.contains(timeframe) ? timeframe
                : stored.filter({ TimeframeTransformer.canResample(from: $0, to: timeframe) }).max() else {
            let held = stored.map(\.rawValue).joined(separator: ", ")
            if let finest = stored.first, finest > timeframe {
                throw .data("\(purpose) trains on \(timeframe) bars, but the store holds \(symbol) only at \(held) (coarser); "
                    + "import \(timeframe) bars or finer, or pass --timeframe \(finest)")
            }
            throw .data("\(purpose) trains on \(timeframe) bars, which cannot be built from the stored \(symbol) bars (\(held)); "
                + "import \(timeframe) bars or pass --timeframe with one of \(held)")
        }
        let bars: BarSeries
        do { bars = try store.read(symbol: symbol, timeframe: source) }
        catch { throw .data("\(symbol) \(source): cannot read the stored bars: \(error)") }
        guard source != timeframe else { return bars }
        do { return try TimeframeTransformer().resample(bars, to: timeframe) }
        catch { throw .data("\(symbol): resampling \(source) to \(timeframe): \(error)") }
    }
}
