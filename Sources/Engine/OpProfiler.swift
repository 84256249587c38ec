import Foundation
import Synchronization

/// Per-kernel wall time, for finding where a model's time goes: with `AITRADER_PROFILE_OPS=1` in the environment,
/// every backend call is timed (from the table lookup to its status check) and a table sorted by total time is
/// printed to standard error when the program exits. Off, it costs one load of a constant per call.
///
///     AITRADER_PROFILE_OPS=1 aitrader bench --suite models --filter medium_term_train
///     # op                      calls   total ms       %   mean us
///     # lstm_bwd                   12     412.6     28.1   34383.1
///     # linear_bwd                132     231.0     15.7    1750.0
///
/// Times are per calling thread's view: a kernel that splits over the CPU pool is timed once, as a whole.
/// Nested calls (none today) would be counted in both.
public enum OpProfiler {
    /// Whether profiling is on (read once, from `AITRADER_PROFILE_OPS`).
    public static let enabled: Bool = {
        guard let v = ProcessInfo.processInfo.environment["AITRADER_PROFILE_OPS"], !v.isEmpty, v != "0" else { return false }
        atexit { OpProfiler.printReport() }
        return true
    }()

    struct Entry { var calls = 0; var nanoseconds: UInt64 = 0 }
    private static let table = Mutex<[String: Entry]>([:])
    nonisolated(unsafe) private static var started: UInt64 = 0   // thread-local would be exact; calls are per thread in practice

    static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    @inline(__always) static func begin() {
        if enabled { started = now() }
    }

    @inline(__always) static func end(_ operation: String) {
        guard enabled else { return }
        let elapsed = now() &- started
        // One row per table entry: some wrappers name a call with its arguments for their error messages
        // ("alloc(960 bytes)", "set_option(threads)"), which would otherwise give a row per size.
        let entry = operation.firstIndex(of: "(").map { String(operation[..<$0]) } ?? operation
        table.withLock { t in
            var e = t[entry] ?? Entry()
            e.calls += 1
            e.nanoseconds &+= elapsed
            t[entry] = e
        }
    }

    /// The rows collected so far: (operation, calls, total milliseconds), largest total first.
    public static func report() -> [(operation: String, calls: Int, milliseconds: Double)] {
        table.withLock { t in
            t.map { ($0.key, $0.value.calls, Double($0.value.nanoseconds) / 1e6) }.sorted { $0.2 > $1.2 }
        }
    }

    static func printReport() {
        let rows = report()
        let total = rows.reduce(0) { $0 + $1.milliseconds }
        var text = "op                          calls    total ms       %     mean us\n"
        for r in rows {
            let pct = total > 0 ? 100 * r.milliseconds / total : 0
            text += r.operation.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: " %7d %11.1f %7.1f %11.1f\n", r.calls, r.milliseconds, pct,
                         1000 * r.milliseconds / Double(max(r.calls, 1)))
        }
        FileHandle.standardError.write(text.data(using: .utf8)!)
    }
}
