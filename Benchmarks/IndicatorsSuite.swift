import Common
import Features
import Foundation
import MarketData

/// `aitrader bench --suite indicators`: the default full indicator set on 1M bars, and the subset TA-Lib has,
/// each next to TA-Lib's time for that subset on the same machine (measured through the reference python with talib,
/// `ReferencePython`: AITRADER_PYTHON, else the project's .venv; `talib_ms` is omitted when there is none).
///
/// `--threads N` computes independent indicators on N threads (default 1; TA-Lib is single-threaded).
///
/// Results (`ms` wall time; `cpu_ms` the process's CPU time over all threads, the fairer figure on a shared
/// machine):
/// - `all_default` {bars: 1000000, columns}: every catalog output at default parameters, with
///   `bars_per_s`, `cpu_ms`, `talib_ms`/`talib_cpu_ms` (TA-Lib computing its subset of that set), `talib_columns`.
/// - `talib_set` {bars: 1000000, columns}: only the columns TA-Lib also computes, same parameters, with
///   `bars_per_s`, `cpu_ms`, `talib_ms`, `talib_cpu_ms`, `speedup_vs_talib` and `cpu_speedup_vs_talib`.
/// - with AITRADER_BENCH_DETAIL set: `indicator_<name>` {bars} for each catalog entry alone.
public enum IndicatorsSuite: BenchSuite {
    public static let name = "indicators"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let bars = options.quick ? 100_000 : 1_000_000
        let runs = options.quick ? 3 : 7
        let series = randomWalk(count: bars)
        let threads = max(1, options.threads ?? 1)
        let calculator = TechnicalIndicatorCalculator(threads: threads)
        var report = BenchReport(suite: name, device: "cpu", deviceName: cpuName(threads), threads: threads)

        let talib = talibReference(bars: bars)
        let all = IndicatorRequest.defaultSet
        var width = 0
        var cpuAll: [Double] = []
        let msAll = Stopwatch.median(runs: runs, warmup: 1) {
            let c0 = processCPUms()
            width = calculator.compute(series, requests: all).width
            cpuAll.append(processCPUms() - c0)
        }
        var extra: [(String, Double)] = [("bars_per_s", Double(bars) / (msAll / 1e3)), ("cpu_ms", median(cpuAll))]
        if let talib {
            extra += [("talib_ms", talib.ms), ("talib_cpu_ms", talib.cpuMs), ("talib_columns", Double(talib.columns))]
        }
        report.results.append(BenchResult(name: "all_default", shape: [("bars", bars), ("columns", width)], ms: msAll,
                                          runs: runs, extra: extra))

        let subset = talibSubset()
        var cpuSubset: [Double] = []
        let msSubset = Stopwatch.median(runs: runs, warmup: 1) {
            let c0 = processCPUms()
            _ = calculator.compute(series, requests: subset)
            cpuSubset.append(processCPUms() - c0)
        }
        var subsetExtra: [(String, Double)] = [("bars_per_s", Double(bars) / (msSubset / 1e3)), ("cpu_ms", median(cpuSubset))]
        if let talib {
            subsetExtra += [("talib_ms", talib.ms), ("talib_cpu_ms", talib.cpuMs), ("speedup_vs_talib", talib.ms / msSubset),
                            ("cpu_speedup_vs_talib", talib.cpuMs / median(cpuSubset))]
        }
        report.results.append(BenchResult(name: "talib_set", shape: [("bars", bars), ("columns", subset.flatMap(\.columnNames).count)],
                                          ms: msSubset, runs: runs, extra: subsetExtra))
        if ProcessInfo.processInfo.environment["AITRADER_BENCH_DETAIL"] != nil {
            for request in all {
                var cpu: [Double] = []
                let single = TechnicalIndicatorCalculator()
                let ms = Stopwatch.median(runs: 3, warmup: 1) {
                    let c0 = threadCPUms()
                    _ = single.compute(series, requests: [request])
                    cpu.append(threadCPUms() - c0)
                }
                report.results.append(BenchResult(name: "indicator_" + request.definitionName, shape: [("bars", bars)],
                                                  ms: ms, runs: 3, extra: [("cpu_ms", cpu.sorted()[cpu.count / 2])]))
            }
        }
        return report
    }

    /// The columns tools/reference/talib_fixtures.py computes with TA-Lib (every output of a catalog entry that
    /// equals a TA-Lib function, except Bollinger %B and bandwidth which TA-Lib lacks).
    static func talibSubset() -> [IndicatorRequest] {
        IndicatorCatalog.all.filter { $0.talib != nil }.map { d in
            let outputs = d.outputs.indices.filter { !["bbands_pctb", "bbands_width"].contains(d.outputs[$0]) }
            return try! IndicatorRequest(definition: d, outputs: outputs)
        }
    }

    /// A geometric random walk with OHLCV structure, hourly bars.
    static func randomWalk(count: Int) -> BarSeries {
        var state: UInt64 = 0x1234_5678
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var ts = [Int64](repeating: 0, count: count), o = [Double](repeating: 0, count: count)
        var h = o, l = o, c = o, v = o
        var p = 100.0
        for i in 0..<count {
            let open = p
            p *= 1 + 0.002 * (uniform() - 0.5)
            ts[i] = 1_500_000_000_000 + Int64(i) * 3_600_000
            o[i] = open
            c[i] = p
            h[i] = max(open, p) * (1 + 0.001 * uniform())
            l[i] = min(open, p) * (1 - 0.001 * uniform())
            v[i] = (100 + 9900 * uniform()).rounded()
        }
        return BarSeries(symbol: "BENCH", timeframe: .h1, timestamps: ts, open: o, high: h, low: l, close: c, volume: v)
    }

    /// TA-Lib's median time for the same set, from `talib_fixtures.py --bench N`.
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? .nan : s[s.count / 2]
    }

    static func talibReference(bars: Int) -> (ms: Double, cpuMs: Double, columns: Int)? {
        guard let python = ReferencePython.find(importing: ["talib"]) else { return nil }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let scripts = [here.appendingPathComponent("tools/reference/talib_fixtures.py").path,
                       FileManager.default.currentDirectoryPath + "/tools/reference/talib_fixtures.py"]
        guard let script = scripts.first(where: { FileManager.default.fileExists(atPath: $0) }) else { return nil }
        guard let r = try? Subprocess.run(python, [script, "--bench", String(bars)]), r.status == 0,
              let json = try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any],
              let ms = json["talib_ms"] as? Double else { return nil }
        return (ms, json["talib_cpu_ms"] as? Double ?? .nan, json["columns"] as? Int ?? 0)
    }

    /// CPU time of the calling thread in milliseconds (stable on a loaded machine, unlike wall time).
    static func threadCPUms() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    /// CPU time of the whole process (all worker threads) in milliseconds.
    static func processCPUms() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    static func cpuName(_ threads: Int) -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        return (model ?? "x86_64") + ", \(threads) thread\(threads == 1 ? "" : "s")"
    }
}
