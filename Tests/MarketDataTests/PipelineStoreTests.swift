import Common
import Foundation
import Testing
@testable import MarketData

/// The pipeline over the real Parquet + SQLite store: what `aitrader data import` then `data show --resample`
/// does, checked in Swift and, when AITRADER_PYTHON has pyarrow and pandas, against pandas itself.
@Suite struct PipelineStoreTests {
    @Test func importUpdateAndServeFromParquetStore() async throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir + "/store")
        let hourly = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        var pipeline = DataPipeline(source: CSVSource(file: Samples.eurusd, symbol: "EURUSD", timeframe: .h1), storage: store)
        pipeline.now = { hourly.timestamps[hourly.count - 1] + UTCTime.msPerHour }
        #expect(try await pipeline.fetchAndStore(symbol: "EURUSD", timeframe: .h1, start: hourly.timestamps[0],
                                                 end: hourly.timestamps[3000]).added == 3000)
        #expect(try await pipeline.updateLatest(symbol: "EURUSD", timeframe: .h1).added == 2000)
        #expect(try await pipeline.updateLatest(symbol: "EURUSD", timeframe: .h1).added == 0)
        #expect(try store.lastTimestamp(symbol: "EURUSD", timeframe: .h1) == hourly.timestamps[hourly.count - 1])
        #expect(try store.catalogue().map(\.rows) == [5000])
        #expect(try pipeline.getData(symbol: "EURUSD", timeframe: .w1)
            == (try TimeframeTransformer().resample(hourly, to: .w1)))
        // Re-importing identical bars adds nothing (the store skips them).
        #expect(try store.merge(hourly, source: "csv") == 0)
    }

    @Test(.enabled(if: LivePyarrow.shouldRun, LivePyarrow.skipReason))
    func resampledParquetEqualsPandas() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir + "/store")
        try store.append(try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1), source: "csv")
        let pipeline = DataPipeline(source: CSVSource(directory: dir), storage: store)
        let code = """
            import sys, pandas as pd, pyarrow.parquet as pq
            src = pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)
            for path, rule in zip(sys.argv[2::2], sys.argv[3::2]):
                got = pq.read_table(path).to_pandas().set_index("timestamp")
                assert str(pq.read_schema(path).field("timestamp").type) == "timestamp[ms, tz=UTC]"
                kw = {"label": "left", "closed": "left"} if rule == "W-MON" else {}
                exp = src.resample(rule, **kw).agg({"Open": "first", "High": "max", "Low": "min", "Close": "last",
                                                    "Volume": "sum"}).dropna(subset=["Open"])
                assert len(got) == len(exp), (rule, len(got), len(exp))
                assert (got.index.tz_convert(None) == exp.index).all(), rule
                assert (got[["open", "high", "low", "close", "volume"]].values == exp.values).all(), rule
                print(rule, len(got))
            """
        var args = ["-c", code, Samples.eurusd]
        for (tf, rule) in [(Timeframe.h4, "4h"), (.d1, "1D"), (.w1, "W-MON"), (.mn1, "MS")] {
            let path = dir + "/eurusd_\(tf).parquet"
            try pipeline.getData(symbol: "EURUSD", timeframe: tf).writeParquet(to: path)
            args += [path, rule]
        }
        let out = String(decoding: try LivePyarrow.run(LivePyarrow.python(), args), as: UTF8.self)
        #expect(out.split(separator: "\n").count == 4)
    }
}
