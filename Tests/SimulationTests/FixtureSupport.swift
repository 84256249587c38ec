import Foundation
import MarketData
import Simulation

/// Fixture files of Tests/SimulationTests/Fixtures and the bundled samples.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
    }

    /// Decodes a JSON fixture. (JSONDecoder, not JSONSerialization: the latter parses some doubles 1 ulp off on
    /// Linux, and these comparisons are bit-exact.)
    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    /// The repository root (for data/sample).
    static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    static func sample(_ file: String, symbol: String, timeframe: Timeframe) throws -> BarSeries {
        try CSVBarReader().read(path: repositoryRoot + "/data/sample/" + file, symbol: symbol, timeframe: timeframe)
    }
}

/// Builds a series from (open, high, low, close) tuples, one bar per hour from 2024-01-01.
func makeSeries(_ ohlc: [(Double, Double, Double, Double)], volume: Double = 1_000_000, symbol: String = "TEST",
                timeframe: Timeframe = .h1) -> BarSeries {
    let t0: Int64 = 1_704_067_200_000
    return BarSeries(symbol: symbol, timeframe: timeframe,
                     bars: ohlc.enumerated().map { i, b in
                         Bar(timestamp: t0 + Int64(i) * timeframe.milliseconds, open: b.0, high: b.1, low: b.2,
                             close: b.3, volume: volume)
                     })
}

/// One backtesting.py run (tools/reference/backtest_fixtures.py).
struct BacktestFixture: Decodable {
    struct Trade: Decodable {
        let size: Double
        let entry_bar: Int, exit_bar: Int
        let entry_time: String, exit_time: String
        let entry_price: Double, exit_price: Double, pnl: Double, commission: Double
    }
    let csv: String
    let fast: Int, slow: Int
    let cash: Double, commission: Double
    let finalize_trades: Bool
    let final_equity: Double
    let trades: [Trade]
    let equity: [Double]
    /// backtesting.py's summary rows by their names ("Win Rate [%]", "Profit Factor", ...) and PnL aggregates of
    /// its trade list ("pnl_mean", ...): see `summary_stats` in backtest_fixtures.py.
    let stats: [String: Double]

    /// sma_cross on the fixture's sample with the fixture's settings.
    func runSMACross() throws -> BacktestResult {
        let isFX = csv.contains("EURUSD")
        let bars = try Fixtures.sample(URL(fileURLWithPath: csv).lastPathComponent, symbol: isFX ? "EURUSD" : "GOOG",
                                       timeframe: isFX ? .h1 : .d1)
        var strategy = SMACross(fast: fast, slow: slow)
        let config = BacktestConfig(cash: cash, models: .backtestingPy(commission: commission),
                                    endOfData: finalize_trades ? .closeAtLastOpen : .keepOpen)
        return try Backtester(series: [bars], config: config).run(&strategy)
    }
}
