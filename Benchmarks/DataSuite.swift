import Common
import Foundation
import MarketData

/// `aitrader bench --suite data`: the data pipeline's storage path, at the names of `shared/design/benchmarks.md`.
///
/// - `csv_import` {rows: 1 000 000 (100 000 with --quick)}: `CSVBarReader` + `BarValidator` + `ParquetBarStore.write`
///   (Parquet encode with zstd, SHA-256, atomic replace, SQLite catalogue) of a synthetic minute-bar CSV; `rows_per_s`.
/// - `parquet_read` {rows: 10 000 000 (1 000 000 with --quick)}: `ParquetReader.readAll()` of a synthetic bar file in
///   the store's layout (zstd, 100 000-row groups); `rows_per_s`, `file_mb`, and when a python with pyarrow is found
///   (the reference python, `ReferencePython`: `$AITRADER_PYTHON`, else the project's `.venv`) `pyarrow_ms`: the median of
///   `pyarrow.parquet.read_table` on the same file on the same machine (pyarrow uses all cores).
/// - `bar_series_read` {rows: same}: the same file into a `BarSeries` through `ParquetBarStore.read` (checksum cached).
/// - `data_append` {rows: 20 000 / 200 000 / 2 000 000, bars: 10}: `ParquetBarStore.append` of 10 new minute bars onto
///   a dataset of `rows` bars (a fresh store per size; the median over 30 appends, 10 with --quick, each writing one
///   part file: validation, Parquet encode, SHA-256, temp file + fsync + rename + dir fsync, SQLite commit). Extras:
///   `appends_per_s`; `compact_ms`, one compaction of the dataset afterwards (base + parts into a new base);
///   `amortized_ms`, the append's cost with the compaction an append triggers every `maxParts + 1` appends spread
///   over them; and `max_over_min`, the largest median append over the smallest across the three sizes (the goal:
///   within 2, i.e. an append's cost does not grow with the dataset).
///
///     let report = try await DataSuite.run(BenchOptions(quick: true))
public enum DataSuite: BenchSuite {
    public static let name = "data"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        var report = BenchReport(suite: name, device: "cpu",
                                 deviceName: "\(machineArchitecture()), \(threads) threads, zstd \(PageCompression.zstdVersion)",
                                 threads: threads)
        let dir = NSTemporaryDirectory() + "aitrader-bench-data-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if options.includes("csv_import") {
            report.results.append(try csvImport(rows: options.quick ? 100_000 : 1_000_000, runs: options.quick ? 1 : 3, dir: dir))
        }
        if options.includes("parquet_read") || options.includes("bar_series_read") {
            report.results.append(contentsOf: try parquetRead(rows: options.quick ? 1_000_000 : 10_000_000,
                                                             runs: options.quick ? 2 : 5, dir: dir))
        }
        if options.includes("data_append") {
            report.results.append(contentsOf: try dataAppend(sizes: [20_000, 200_000, 2_000_000],
                                                            runs: options.quick ? 10 : 30, dir: dir))
        }
        return report
    }

    /// A random-walk minute series with 5-decimal prices (FX-like), deterministic.
    static func syntheticBars(_ n: Int, symbol: String) -> BarSeries {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let t0 = UTCTime.milliseconds(year: 2010, month: 1, day: 1)
        var t = [Int64](), o = [Double](), h = [Double](), l = [Double](), c = [Double](), v = [Double]()
        t.reserveCapacity(n); o.reserveCapacity(n); h.reserveCapacity(n); l.reserveCapacity(n); c.reserveCapacity(n)
        v.reserveCapacity(n)
        var price = 1.1
        func round5(_ x: Double) -> Double { (x * 100_000).rounded() / 100_000 }
        for i in 0..<n {
            let open = round5(price)
            let close = round5(max(0.5, price + (uniform() - 0.5) * 0.0008))
            let high = round5(max(open, close) + uniform() * 0.0003)
            let low = round5(min(open, close) - uniform() * 0.0003)
            t.append(t0 + Int64(i) * 60_000); o.append(open); h.append(high); l.append(low); c.append(close)
            v.append(Double(Int(uniform() * 500)))
            price = close
        }
        return BarSeries(symbol: symbol, timeframe: .m1, timestamps: t, open: o, high: h, low: l, close: c, volume: v)
    }

    static func csvImport(rows: Int, runs: Int, dir: String) throws -> BenchResult {
        let bars = syntheticBars(rows, symbol: "SYN")
        var csv = ",Open,High,Low,Close,Volume\n"
        csv.reserveCapacity(rows * 60)
        for i in 0..<bars.count {
            csv += "\(UTCTime.plain(bars.timestamps[i])),\(bars.open[i]),\(bars.high[i]),\(bars.low[i]),\(bars.close[i]),\(Int(bars.volume[i]))\n"
        }
        let csvPath = dir + "/SYN_M1.csv"
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let store = try ParquetBarStore(root: dir + "/store")
        let ms = try Stopwatch.median(runs: runs, warmup: 1) {
            let series = try CSVBarReader().read(path: csvPath, symbol: "SYN", timeframe: .m1)
            try store.write(series, source: "csv:" + csvPath)
        }
        return BenchResult(name: "csv_import", shape: [("rows", rows)], ms: ms, runs: runs,
                           extra: [("rows_per_s", Double(rows) / (ms / 1000))])
    }

    static func parquetRead(rows: Int, runs: Int, dir: String) throws -> [BenchResult] {
        let store = try ParquetBarStore(root: dir + "/read")
        try store.write(syntheticBars(rows, symbol: "SYN"), source: "synthetic")
        let path = try store.path(symbol: "SYN", timeframe: .m1)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        let ms = try Stopwatch.median(runs: runs, warmup: 1) {
            let table = try ParquetReader(path: path).readAll()
            precondition(table.rowCount == rows)
        }
        var extra: [(String, Double)] = [("rows_per_s", Double(rows) / (ms / 1000)), ("file_mb", size / 1e6)]
        if let pyarrow = pyarrowMilliseconds(path: path, runs: runs) { extra.append(("pyarrow_ms", pyarrow)) }
        let seriesMs = try Stopwatch.median(runs: runs, warmup: 1) {
            let s = try store.read(symbol: "SYN", timeframe: .m1)
            precondition(s.count == rows)
        }
        return [
            BenchResult(name: "parquet_read", shape: [("rows", rows)], ms: ms, runs: runs, extra: extra),
            BenchResult(name: "bar_series_read", shape: [("rows", rows)], ms: seriesMs, runs: runs,
                        extra: [("rows_per_s", Double(rows) / (seriesMs / 1000))]),
        ]
    }

    /// `data_append` at each size (see the type's notes).
    static func dataAppend(sizes: [Int], runs: Int, dir: String) throws -> [BenchResult] {
        let batch = 10
        var results: [BenchResult] = []
        for rows in sizes {
            let bars = syntheticBars(rows + (runs + 2) * batch, symbol: "SYN")
            let store = try ParquetBarStore(root: dir + "/append-\(rows)")
            try store.write(bars[0..<rows], source: "synthetic")
            var next = rows
            let ms = try Stopwatch.median(runs: runs, warmup: 2) {
                let r = try store.append(bars[next..<(next + batch)], source: "bench")
                precondition(r.rowsAdded == batch && !r.rewroteDataset && r.compaction == nil)
                next += batch
            }
            let began = DispatchTime.now().uptimeNanoseconds
            let compaction = try store.compact(symbol: "SYN", timeframe: .m1)
            let compactMs = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
            precondition(compaction.rows == next)
            let every = Double(store.maxParts + 1)
            results.append(BenchResult(name: "data_append", shape: [("rows", rows), ("bars", batch)], ms: ms, runs: runs,
                                       extra: [("appends_per_s", 1000 / ms), ("compact_ms", compactMs),
                                               ("amortized_ms", ms + compactMs / every)]))
            try? FileManager.default.removeItem(atPath: dir + "/append-\(rows)")
        }
        let medians = results.map(\.ms)
        let ratio = (medians.max() ?? 0) / max(medians.min() ?? 1, 1e-9)
        for i in results.indices { results[i].extra.append(("max_over_min", ratio)) }
        return results
    }

    /// Median ms of `pyarrow.parquet.read_table(path)`, or nil when no python with pyarrow is found.
    static func pyarrowMilliseconds(path: String, runs: Int) -> Double? {
        guard let python = ReferencePython.find(importing: ["pyarrow"]) else { return nil }
        let script = """
            import sys, time
            import pyarrow.parquet as pq
            path, runs = sys.argv[1], int(sys.argv[2])
            pq.read_table(path)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter(); pq.read_table(path); times.append((time.perf_counter() - t0) * 1e3)
            times.sort(); n = len(times)
            print(times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2]))
            """
        guard let r = try? Subprocess.run(python, ["-c", script, path, String(runs)]), r.status == 0 else { return nil }
        return Double(r.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func machineArchitecture() -> String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "cpu"
        #endif
    }
}
