import Common
import Foundation
import MarketData
import Testing
@testable import Features

@Suite struct FeatureStoreTests {
    /// A fresh data root with the EURUSD sample in its bar store.
    static func makeStore(rowGroupRows: Int = 1024) throws -> (FeatureStore, String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-fs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let bars = try ParquetBarStore(root: root)
        try bars.append(try TestData.sample("EURUSD_H1"), source: "test")
        let store = try FeatureStore(root: root, bars: bars,
                                     configDirectory: TestData.root.appendingPathComponent("configs/features").path,
                                     rowGroupRows: rowGroupRows)
        return (store, root)
    }

    @Test func storesReadsRangesAndMatchesADirectComputation() throws {
        let (store, root) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try store.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .shortTerm)
        #expect(first.computed && first.rows == 5000)
        #expect(try store.featureNames(model: .shortTerm) == first.names)
        let again = try store.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .shortTerm)
        #expect(!again.computed && again.key == first.key)   // cached

        let bars = try TestData.sample("EURUSD_H1")
        let direct = try store.featureSet(model: .shortTerm).compute(bars)
        let all = try store.features(symbol: "EURUSD", timeframe: .h1, model: .shortTerm)
        #expect(all.timestamps == direct.timestamps && all.lookbacks == direct.lookbacks)
        for k in 0..<direct.width {
            #expect(zip(all.columns[k], direct.columns[k]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(direct.names[k])")
        }
        // A range inside the data: only the overlapping row groups are read; values equal the full run's rows.
        let start = bars.timestamps[2500], end = bars.timestamps[2600]
        let range = try store.features(symbol: "EURUSD", timeframe: .h1, model: .shortTerm, start: start, end: end,
                                       columns: ["rsi_14", "hour_sin"])
        #expect(range.count == 100 && range.names == ["rsi_14", "hour_sin"])
        #expect(range["rsi_14"]! == Array(direct["rsi_14"]![2500..<2600]))
        #expect(range.lookbacks == [0, 0])
        let head = try store.features(symbol: "EURUSD", timeframe: .h1, model: .shortTerm, end: bars.timestamps[50])
        #expect(head.maxLookback == direct.maxLookback && head.count == 50)
        #expect(throws: FeatureError.self) {
            try store.features(symbol: "EURUSD", timeframe: .h1, model: .shortTerm, columns: ["sma_999"])
        }
    }

    @Test func changedBarsOrConfigInvalidateExactlyTheirFiles() throws {
        let (store, root) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let short = try store.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .shortTerm)
        let medium = try store.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm)
        #expect(short.key != medium.key)

        // A different configuration directory (one feature changed) invalidates only that model's file.
        let configs = root + "/configs"
        try FileManager.default.createDirectory(atPath: configs, withIntermediateDirectories: true)
        for model in ModelKind.allCases {
            let source = TestData.root.appendingPathComponent("configs/features/\(model.rawValue).yaml").path
            var text = try String(contentsOfFile: source, encoding: .utf8)
            if model == .shortTerm { text = text.replacingOccurrences(of: "  - rsi_7\n", with: "  - rsi_9\n") }
            try text.write(toFile: "\(configs)/\(model.rawValue).yaml", atomically: true, encoding: .utf8)
        }
        let edited = try FeatureStore(root: root, bars: store.bars, configDirectory: configs, rowGroupRows: 1024)
        let short2 = try edited.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .shortTerm)
        let medium2 = try edited.computeAndStore(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm)
        #expect(short2.computed && short2.key != short.key && short2.names.contains("rsi_9"))
        #expect(!medium2.computed && medium2.key == medium.key)

        // New bars change the bar store's content hash: both files are recomputed on the next read.
        let more = TestData.randomWalk(count: 10, seed: 4, start: try TestData.sample("EURUSD_H1").timestamps[4999] + 3_600_000,
                                       price: 1.1)
        try store.bars.append(BarSeries(symbol: "EURUSD", timeframe: .h1, timestamps: more.timestamps.array,
                                        open: more.open.array, high: more.high.array, low: more.low.array,
                                        close: more.close.array, volume: more.volume.array), source: "test")
        let after = try store.features(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm)
        #expect(after.count == 5010)
        #expect(try store.storedEntry(symbol: "EURUSD", timeframe: .h1, model: .mediumTerm)!.key != medium.key)
    }

    /// `aitrader indicators compute` with Parquet in and out: bars written as Parquet load back equal, and a
    /// frame written as Parquet reads back with its values, NaN warm-up and lookbacks.
    @Test func parquetBarsInFeaturesOut() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-pq-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bars = try TestData.sample("GOOG_D1")
        try ParquetWriter().write(bars.parquetTable(), to: dir + "/GOOG_D1.parquet")
        let loaded = try BarFile.load(path: dir + "/GOOG_D1.parquet")
        #expect(loaded.symbol == "GOOG" && loaded.timeframe == .d1 && loaded.close == bars.close && loaded.timestamps == bars.timestamps)
        let frame = try TechnicalIndicatorCalculator().compute(loaded, columns: ["rsi_14", "macd_signal_12_26_9", "obv"])
        try FeatureFrameParquet.write(frame, to: dir + "/out.parquet", rowGroupRows: 500)
        let back = try FeatureFrameParquet.read(path: dir + "/out.parquet")
        #expect(back.names == frame.names && back.timestamps == frame.timestamps && back.lookbacks == frame.lookbacks)
        for k in 0..<frame.width {
            #expect(zip(back.columns[k], frame.columns[k]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    @Test func missingBarsAreAnExplainedError() throws {
        let (store, root) = try Self.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: FeatureError.self) { try store.computeAndStore(symbol: "GBPUSD", timeframe: .h1, model: .shortTerm) }
    }
}

/// `BarFile.load` (indicators, features from a file) refuses what `aitrader data import` refuses, naming the CSV
/// line or the Parquet row.
@Suite struct BarFileValidationTests {
    @Test func refusesInvalidCSVAndParquetBars() throws {
        let dir = NSTemporaryDirectory() + "aitrader-barfile-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/BAD_H1.csv"
        try """
            Date,Open,High,Low,Close,Volume
            2024-01-01 00:00,1.0,1.2,0.9,1.1,10
            2024-01-01 01:00,1.1,1.0,1.3,1.2,11
            2024-01-01 02:00,1.2,1.4,1.1,1.3,12

            """.write(toFile: csv, atomically: true, encoding: .utf8)
        do {
            _ = try BarFile.load(path: csv)
            Issue.record("invalid CSV loaded")
        } catch {
            #expect("\(error)" == csv + ":3: low 1.3 > high 1.0 (rule ohlc_consistency)")
        }
        let bars = TestData.randomWalk(count: 50, seed: 3)
        var broken = bars.bars
        broken[20].volume = -1
        let parquet = dir + "/BAD.parquet"
        try BarSeries(symbol: "BAD", timeframe: .h1, bars: broken).writeParquet(to: parquet)
        do {
            _ = try BarFile.load(path: parquet)
            Issue.record("invalid Parquet loaded")
        } catch {
            #expect("\(error)".hasPrefix(parquet + ": row 21 "), "\(error)")
        }
        try bars.writeParquet(to: parquet)
        #expect(try BarFile.load(path: parquet, timeframe: bars.timeframe).bars == bars.bars)
    }
}

/// Coarser timeframes are served by resampling a finer stored one, for the bar store's one read function and
/// for features; nothing fitting is an error listing what is stored.
@Suite struct ResampledServingTests {
    @Test func servesCoarserTimeframesFromTheFinestStoredOne() throws {
        let (store, root) = try FeatureStoreTests.makeStore()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hourly = try TestData.sample("EURUSD_H1")
        let served = try store.bars.bars(symbol: "EURUSD", timeframe: .h4)
        #expect(served.resampled && served.source.timeframe == .h1)
        #expect(served.series == (try TimeframeTransformer().resample(hourly, to: .h4)))
        let exact = try store.bars.bars(symbol: "EURUSD", timeframe: .h1)
        #expect(!exact.resampled && exact.series == hourly && exact.contentKey == exact.source.checksum)
        // A range is widened to whole bins: the 4h bar holding 05:00 starts at 04:00.
        let t = hourly.timestamps[100]
        let ranged = try store.bars.bars(symbol: "EURUSD", timeframe: .d1, start: t, end: t + 3_600_000).series
        #expect(ranged.count == 1 && ranged.timestamps[0] <= t)
        do {
            _ = try store.bars.bars(symbol: "EURUSD", timeframe: .m15)
            Issue.record("15m served from 1h")
        } catch {
            #expect(error.kind == .notFound && error.description.contains("stored for EURUSD: 1h"), "\(error)")
        }
        do {
            _ = try store.bars.bars(symbol: "GBPUSD", timeframe: .d1)
            Issue.record("unknown symbol served")
        } catch {
            #expect(error.description.contains("stored: EURUSD 1h"), "\(error)")
        }

        // Features for 4h (medium_term's timeframe) come from the resampled bars and are cached on them.
        let entry = try store.computeAndStore(symbol: "EURUSD", timeframe: .h4, model: .mediumTerm)
        #expect(entry.computed && entry.rows == served.series.count)
        let direct = try store.featureSet(model: .mediumTerm).compute(served.series)
        let frame = try store.features(symbol: "EURUSD", timeframe: .h4, model: .mediumTerm)
        #expect(frame.timestamps == direct.timestamps)
        #expect(!(try store.computeAndStore(symbol: "EURUSD", timeframe: .h4, model: .mediumTerm).computed))
        // New hourly bars change the 4h key: recomputed.
        let next = hourly.timestamps[hourly.count - 1] + 3_600_000
        try store.bars.readWrite().append(BarSeries(symbol: "EURUSD", timeframe: .h1, bars: [
            Bar(timestamp: next, open: 1, high: 1.1, low: 0.9, close: 1, volume: 1)]), source: "test")
        #expect(try store.computeAndStore(symbol: "EURUSD", timeframe: .h4, model: .mediumTerm).computed)
    }

    @Test func featureStoreOpensBarsReadOnly() throws {
        let root = NSTemporaryDirectory() + "aitrader-fs-ro-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: StorageError.self) { try FeatureStore(root: root) }
        #expect(!FileManager.default.fileExists(atPath: root))
    }
}

extension ParquetBarStore {
    /// The same store opened for writing.
    func readWrite() throws -> ParquetBarStore { try ParquetBarStore(root: root) }
}
