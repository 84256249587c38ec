import Common
import Foundation
import MarketData
import Simulation

/// `aitrader bench --suite backtest`: the sma_cross backtest (10/20, cash 10 000, commission 0.002, backtesting.py
/// semantics) on 1 000 000 synthetic hourly bars, with `bars_per_s`; and, when backtesting.py is available
/// (the reference python, `ReferencePython`: `AITRADER_PYTHON` if set, else the project's .venv, with tools/reference/
/// in the working directory), backtesting.py's time for the same run as `backtesting_py_ms`. backtesting.py is timed on the first
/// `backtesting_py_bars` bars of the same data and scaled linearly to the full size (its per-bar cost is constant);
/// `speedup` = backtesting_py_ms / ms. On a shared machine wall times swing with load, so CPU times are reported
/// too: `cpu_ms` (this thread's CPU time per run, median), `backtesting_py_cpu_ms` (scaled the same way) and
/// `speedup_cpu`. The look-ahead audit is off (backtesting.py has none).
public enum BacktestSuite: BenchSuite {
    public static let name = "backtest"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        var report = BenchReport(suite: name, device: "cpu", deviceName: cpuName(), threads: 1)
        let n = options.quick ? 100_000 : 1_000_000
        let bars = syntheticBars(count: n, seed: 42)
        let config = BacktestConfig(cash: 10_000, models: .backtestingPy(commission: 0.002), lookAheadAudit: 0)
        var trades = 0
        var finalEquity = 0.0
        var cpu: [Double] = []
        let ms = try Stopwatch.median(runs: options.quick ? 3 : 5, warmup: 1) {
            let c0 = threadCPUms()
            var s = SMACross(fast: 10, slow: 20)
            let r = try Backtester(series: [bars], config: config).run(&s)
            cpu.append(threadCPUms() - c0)
            trades = r.trades.count
            finalEquity = r.finalEquity
        }
        cpu = Array(cpu.dropFirst()).sorted()
        let cpuMs = cpu.isEmpty ? ms : cpu[cpu.count / 2]
        var extra: [(String, Double)] = [("bars_per_s", Double(n) / (ms / 1_000)), ("cpu_ms", cpuMs),
                                         ("trades", Double(trades)), ("final_equity", finalEquity)]
        if let python = referencePython(), FileManager.default.fileExists(atPath: script) {
            let pyBars = min(n, options.quick ? 20_000 : 100_000)
            if let (seconds, cpuSeconds) = try timeBacktestingPy(python: python, bars: bars, count: pyBars) {
                let scale = 1_000 * Double(n) / Double(pyBars)
                extra += [("backtesting_py_ms", seconds * scale), ("backtesting_py_bars", Double(pyBars)),
                          ("speedup", seconds * scale / ms), ("backtesting_py_cpu_ms", cpuSeconds * scale),
                          ("speedup_cpu", cpuSeconds * scale / cpuMs)]
            }
        }
        report.results.append(BenchResult(name: "sma_cross", shape: [("bars", n)], ms: ms, runs: options.quick ? 3 : 5,
                                          extra: extra))
        return report
    }

    static let script = "tools/reference/bench_backtesting_py.py"

    /// A deterministic geometric random walk of hourly OHLCV bars (EURUSD-like, ~0.1 % hourly moves).
    public static func syntheticBars(count: Int, seed: UInt64) -> BarSeries {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let t0 = UTCTime.milliseconds(year: 2000, month: 1, day: 3)
        var ts = [Int64](repeating: 0, count: count), o = [Double](repeating: 0, count: count)
        var h = o, l = o, c = o
        var price = 1.1
        for i in 0..<count {
            let open = price
            let close = open * exp(0.001 * normal())
            ts[i] = t0 + Int64(i) * UTCTime.msPerHour
            o[i] = (open * 1e5).rounded() / 1e5
            c[i] = (close * 1e5).rounded() / 1e5
            h[i] = ((max(open, close) * (1 + 0.0005 * abs(normal()))) * 1e5).rounded() / 1e5
            l[i] = ((min(open, close) * (1 - 0.0005 * abs(normal()))) * 1e5).rounded() / 1e5
            h[i] = max(h[i], o[i], c[i])
            l[i] = min(l[i], o[i], c[i])
            price = c[i]
        }
        return BarSeries(symbol: "SYNTH", timeframe: .h1, timestamps: ts, open: o, high: h, low: l, close: c,
                         volume: [Double](repeating: 1_000, count: count))
    }

    /// The reference python with backtesting.py (`ReferencePython`; AITRADER_PYTHON="" skips the reference run).
    static func referencePython() -> String? {
        ReferencePython.find(importing: ["backtesting"])
    }

    /// This thread's CPU time in milliseconds.
    static func threadCPUms() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    static func timeBacktestingPy(python: String, bars: BarSeries, count: Int) throws -> (Double, Double)? {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader_bench_\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: csv) }
        var text = "Datetime,Open,High,Low,Close,Volume\n"
        text.reserveCapacity(count * 64)
        for i in 0..<count {
            text += UTCTime.plain(bars.timestamps[i]) + ",\(bars.open[i]),\(bars.high[i]),\(bars.low[i]),\(bars.close[i]),1000\n"
        }
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let (status, out) = try runProcess(python, [script, csv, "\(count)", "10", "20"])
        guard status == 0, let line = out.split(separator: "\n").last,
              let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let seconds = obj["seconds"] as? Double, let cpuSeconds = obj["cpu_seconds"] as? Double else { return nil }
        return (seconds, cpuSeconds)
    }

    static func runProcess(_ path: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let r = try Subprocess.run(path, args)
        return (r.status, r.output)
    }

    static func cpuName() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "cpu"
        return "\(model), 1 thread"
    }
}
