import Common
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One measured piece of work, in the shape of `shared/design/benchmarks.md`.
public struct BenchResult: Sendable {
    public var name: String
    /// The sizes that define the work, e.g. `["B": 64, "L": 64]`.
    public var shape: [(String, Int)]
    /// Median wall time of one call, after warm-up, in milliseconds.
    public var ms: Double
    public var runs: Int
    /// Extra rates (`gflops`, `samples_per_s`, `rows_per_s`, `bars_per_s`) and reference figures.
    public var extra: [(String, Double)]

    public init(name: String, shape: [(String, Int)], ms: Double, runs: Int, extra: [(String, Double)] = []) {
        self.name = name
        self.shape = shape
        self.ms = ms
        self.runs = runs
        self.extra = extra
    }
}

/// A suite's whole output: printed as one JSON document with `--json`, or as a table without.
public struct BenchReport: Sendable {
    public var suite: String
    public var device: String
    public var deviceName: String
    public var threads: Int
    public var results: [BenchResult] = []

    public init(suite: String, device: String, deviceName: String, threads: Int) {
        self.suite = suite
        self.device = device
        self.deviceName = deviceName
        self.threads = threads
    }

    public func json() -> String {
        var out = "{\n  \"suite\": \(quote(suite)),\n  \"device\": \(quote(device)),\n"
        out += "  \"device_name\": \(quote(deviceName)),\n  \"threads\": \(threads),\n  \"results\": ["
        for (i, r) in results.enumerated() {
            out += i == 0 ? "\n" : ",\n"
            let shape = r.shape.map { "\(quote($0.0)): \($0.1)" }.joined(separator: ", ")
            out += "    {\"name\": \(quote(r.name)), \"shape\": {\(shape)}, \"ms\": \(number(r.ms)), \"runs\": \(r.runs)"
            for (key, value) in r.extra { out += ", \(quote(key)): \(number(value))" }
            out += "}"
        }
        out += results.isEmpty ? "]\n}" : "\n  ]\n}"
        return out
    }

    public func table() -> String {
        var out = "suite \(suite) on \(device) (\(deviceName)), \(threads) threads\n"
        for r in results {
            let shape = r.shape.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            var line = "  " + r.name.padding(toLength: 24, withPad: " ", startingAt: 0)
            line += shape.padding(toLength: 36, withPad: " ", startingAt: 0)
            line += String(format: "%10.3f ms", r.ms)
            for (key, value) in r.extra { line += String(format: "  %@=%.4g", key, value) }
            out += line + "\n"
        }
        return out
    }

    private func quote(_ s: String) -> String { JSONText.quote(s) }

    private func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return String(format: "%.6g", v)
    }
}

/// Wall-clock timing with warm-up; returns the median of `runs` calls in milliseconds.
///
///     let ms = Stopwatch.median(runs: 20, warmup: 3) { try step() }
public enum Stopwatch {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    public static func median(runs: Int, warmup: Int = 2, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        times.reserveCapacity(runs)
        for _ in 0..<max(runs, 1) {
            let t0 = now()
            try body()
            times.append(now() - t0)
        }
        times.sort()
        let n = times.count
        return n % 2 == 1 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2])
    }
}

/// Options every suite understands (`aitrader bench --suite S [--device cpu|cuda] [--threads N] [--quick] [--filter TEXT]`).
public struct BenchOptions: Sendable {
    public var device: String
    public var threads: Int?
    /// Fewer runs and smaller inputs, for smoke tests.
    public var quick: Bool
    /// Only the benchmarks whose name contains this text (`short_term`, `_infer`, `long_term_train_step`), or whose
    /// "name B=N" does (`long_term_infer B=1`); nil runs everything.
    public var filter: String?
    public init(device: String = "auto", threads: Int? = nil, quick: Bool = false, filter: String? = nil) {
        self.device = device
        self.threads = threads
        self.quick = quick
        self.filter = filter
    }

    /// Whether the piece of work `name` (at batch `batch`, when it has one) is selected by `filter`.
    public func includes(_ name: String, batch: Int? = nil) -> Bool {
        guard let filter else { return true }
        return name.contains(filter) || batch.map { "\(name) B=\($0)".contains(filter) } ?? false
    }
}

/// A benchmark suite: `aitrader bench --suite <name>`.
public protocol BenchSuite: Sendable {
    static var name: String { get }
    static func run(_ options: BenchOptions) async throws -> BenchReport
}
