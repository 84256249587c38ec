import CKernels
import Engine
import Foundation

/// `aitrader bench --suite kernels`: one layer's forward + backward on a backend table (fp32), at the shapes of
/// `shared/design/benchmarks.md`: `gemm` (two shapes, with `gflops`), `conv1d_fwd_bwd`, `lstm_fwd_bwd`,
/// `attention_fwd_bwd` (each with the `gflops` its matrix products amount to).
///
///     let report = try KernelsSuite.run(.init(threads: 2), on: ck_cpu_backend(), device: "cpu")
///     print(report.json())
///
/// The backend is a parameter so that any `ck_backend` (the CPU singleton, a loaded CUDA library) runs the same
/// work; `run(_:)` picks it with `Devices.select` (`--device auto|cpu|cuda`). Timings include a `sync` after
/// each call, so asynchronous backends are timed to completion.
public enum KernelsSuite: BenchSuite {
    public static let name = "kernels"

    public static func run(_ options: BenchOptions) async throws -> BenchReport {
        let backend = try Devices.select(device: options.device, threads: options.threads)
        return try run(options, on: backend.raw, device: backend.name)
    }

    /// Runs every kernel benchmark on `backend`; `device` is the report's `device` field ("cpu" or "cuda").
    public static func run(_ options: BenchOptions, on backend: UnsafeMutablePointer<ck_backend>,
                           device: String) throws -> BenchReport {
        let bench = KernelBench(backend: backend, runs: options.quick ? 3 : 20, warmup: options.quick ? 1 : 3)
        if let threads = options.threads, backend.pointee.caps & UInt32(CK_CAP_HOST_MEMORY) != 0 {
            try bench.check(backend.pointee.set_option!(backend, CK_OPT_THREADS, Int32(threads)), "set_option(threads)")
        }
        var info = ck_device_info()
        try bench.check(backend.pointee.device_info!(backend, &info), "device_info")
        let deviceName = withUnsafeBytes(of: info.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var report = BenchReport(suite: name, device: device, deviceName: deviceName, threads: Int(info.threads))
        report.results.append(try bench.gemm(M: 512, N: 512, K: 512))
        report.results.append(try bench.gemm(M: 64, N: 1024, K: 256))
        report.results.append(try bench.conv1d(B: 64, L: 64, cin: 128, cout: 256, k: 7))
        report.results.append(try bench.lstm(B: 64, L: 64, input: 256, hidden: 256))
        report.results.append(try bench.attention(B: 64, L: 64, d: 256, heads: 8))
        return report
    }
}

/// A backend call failed during a benchmark.
public struct KernelBenchError: Error, CustomStringConvertible {
    public var operation: String
    public var status: Int
    public var message: String
    public var description: String { "\(operation) failed with status \(status): \(message)" }
}

/// Device buffers and timed calls of one benchmark run.
final class KernelBench {
    let b: UnsafeMutablePointer<ck_backend>
    let runs: Int
    let warmup: Int
    private var buffers: [UnsafeMutableRawPointer] = []
    private var seed: UInt64 = 0x5EED

    init(backend: UnsafeMutablePointer<ck_backend>, runs: Int, warmup: Int) {
        self.b = backend
        self.runs = runs
        self.warmup = warmup
    }

    deinit {
        for p in buffers { _ = b.pointee.free!(b, p) }
    }

    func check(_ status: ck_status, _ operation: String) throws {
        guard status == CK_OK else {
            let message = b.pointee.last_error!(b).map { String(cString: $0) } ?? ""
            throw KernelBenchError(operation: operation, status: Int(status.rawValue), message: message)
        }
    }

    /// A backend buffer of `count` floats filled uniformly in [-scale, scale).
    func buffer(_ count: Int, scale: Float = 1) throws -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer? = nil
        try check(b.pointee.alloc!(b, &raw, count * MemoryLayout<Float>.size), "alloc")
        guard let raw else { throw KernelBenchError(operation: "alloc", status: 2, message: "zero-size buffer") }
        buffers.append(raw)
        var host = [Float](repeating: 0, count: count)
        for i in 0..<count {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            host[i] = (Float(seed >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        try check(b.pointee.copy_h2d!(b, raw, host, count * MemoryLayout<Float>.size), "copy_h2d")
        return raw.assumingMemoryBound(to: Float.self)
    }

    /// Median milliseconds of `body` followed by `sync`.
    func time(_ body: () throws -> Void) throws -> Double {
        try Stopwatch.median(runs: runs, warmup: warmup) {
            try body()
            try check(b.pointee.sync!(b), "sync")
        }
    }

    func gemm(M: Int, N: Int, K: Int) throws -> BenchResult {
        let a = try buffer(M * K), bm = try buffer(K * N), c = try buffer(M * N)
        let ms = try time {
            try check(b.pointee.gemm!(b, c, a, bm, Int32(M), Int32(N), Int32(K), 0, 0, Int32(K), Int32(N), Int32(N), 1, 0),
                      "gemm")
        }
        let flops = 2.0 * Double(M * N * K)
        return BenchResult(name: "gemm", shape: [("M", M), ("N", N), ("K", K)], ms: ms, runs: runs,
                           extra: [("gflops", flops / (ms * 1e6))])
    }

    func conv1d(B: Int, L: Int, cin: Int, cout: Int, k: Int) throws -> BenchResult {
        let x = try buffer(B * L * cin), w = try buffer(cout * cin * k, scale: 0.05), bias = try buffer(cout)
        let y = try buffer(B * L * cout), dy = try buffer(B * L * cout)
        let dx = try buffer(B * L * cin), dw = try buffer(cout * cin * k), db = try buffer(cout)
        let (b32, l32, ci, co, k32) = (Int32(B), Int32(L), Int32(cin), Int32(cout), Int32(k))
        let ms = try time {
            try check(b.pointee.conv1d_fwd!(b, y, x, w, bias, b32, l32, ci, co, k32), "conv1d_fwd")
            try check(b.pointee.conv1d_bwd!(b, dx, dw, db, dy, x, w, b32, l32, ci, co, k32), "conv1d_bwd")
        }
        let flops = 3.0 * 2.0 * Double(B * L * cout * cin * k)
        return BenchResult(name: "conv1d_fwd_bwd", shape: [("B", B), ("L", L), ("in", cin), ("out", cout), ("k", k)],
                           ms: ms, runs: runs, extra: [("gflops", flops / (ms * 1e6))])
    }

    func lstm(B: Int, L: Int, input: Int, hidden H: Int) throws -> BenchResult {
        let x = try buffer(B * L * input), wih = try buffer(4 * H * input, scale: 0.06), whh = try buffer(4 * H * H, scale: 0.06)
        let bih = try buffer(4 * H, scale: 0.06), bhh = try buffer(4 * H, scale: 0.06)
        let h = try buffer(B * L * H), cache = try buffer(B * L * 5 * H), scratch = try buffer(B * L * 4 * H + 2 * B * H)
        let dh = try buffer(B * L * H), dx = try buffer(B * L * input)
        let dwih = try buffer(4 * H * input), dwhh = try buffer(4 * H * H), dbih = try buffer(4 * H), dbhh = try buffer(4 * H)
        let (b32, l32, in32, h32) = (Int32(B), Int32(L), Int32(input), Int32(H))
        let ms = try time {
            try check(b.pointee.lstm_fwd!(b, h, nil, cache, x, wih, whh, bih, bhh, nil, nil, b32, l32, in32, h32, 0),
                      "lstm_fwd")
            try check(b.pointee.lstm_bwd!(b, dx, dwih, dwhh, dbih, dbhh, nil, nil, scratch, dh, nil, x, wih, whh, nil, nil,
                                         cache, h, b32, l32, in32, h32, 0), "lstm_bwd")
        }
        let flops = 3.0 * 2.0 * Double(B * L * 4 * H * (input + H))
        return BenchResult(name: "lstm_fwd_bwd", shape: [("B", B), ("L", L), ("in", input), ("hidden", H)], ms: ms,
                           runs: runs, extra: [("gflops", flops / (ms * 1e6))])
    }

    func attention(B: Int, L: Int, d: Int, heads: Int) throws -> BenchResult {
        let hs = d / heads
        let q = try buffer(B * L * d), k = try buffer(B * L * d), v = try buffer(B * L * d)
        let out = try buffer(B * L * d), probs = try buffer(B * heads * L * L), dout = try buffer(B * L * d)
        let dq = try buffer(B * L * d), dk = try buffer(B * L * d), dv = try buffer(B * L * d)
        let scratch = try buffer(B * heads * L * L)
        let (b32, l32, nh, hs32, ld) = (Int32(B), Int32(L), Int32(heads), Int32(hs), Int32(d))
        let ms = try time {
            try check(b.pointee.attention_fwd!(b, out, probs, q, k, v, nil, b32, l32, nh, hs32, ld, ld, ld, ld, 0),
                      "attention_fwd")
            try check(b.pointee.attention_bwd!(b, dq, dk, dv, scratch, dout, q, k, v, probs, b32, l32, nh, hs32, ld, ld,
                                              ld, ld, 0), "attention_bwd")
        }
        let flops = 3.0 * 2.0 * 2.0 * Double(B * heads * L * L * hs)
        return BenchResult(name: "attention_fwd_bwd", shape: [("B", B), ("L", L), ("d", d), ("heads", heads)], ms: ms,
                           runs: runs, extra: [("gflops", flops / (ms * 1e6))])
    }
}
