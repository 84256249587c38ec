import CKernels
import Foundation

/// One compute backend: the `ck_backend` function table of ckernels.h (CPU via OpenBLAS, or CUDA loaded at run
/// time) with Swift wrappers that check every `ck_status` and throw `EngineError` with the backend's
/// `last_error` text.
///
/// Operations on one backend are ordered (one stream); use one backend from one thread at a time.
///
///     let cpu = Backend.cpu
///     try cpu.setThreads(2)
///     let x = try Tensor([1, 2, 3], shape: [3], on: cpu)
///     print(try cpu.info().name)   // "x86_64, 2 threads, OpenBLAS ..."
public final class Backend: @unchecked Sendable, CustomStringConvertible {
    /// The C table. Never dereference the float pointers it hands out unless `hostMemory` is true.
    public let raw: UnsafeMutablePointer<ck_backend>
    /// "cpu" or "cuda".
    public let name: String
    /// Where the table came from (the library path for a loaded backend, "built-in" for the CPU one).
    public let origin: String
    private let ownsInstance: Bool

    /// The process-wide CPU backend (always present).
    public static let cpu = Backend(raw: ck_cpu_backend(), origin: "built-in", owns: false)

    init(raw: UnsafeMutablePointer<ck_backend>, origin: String, owns: Bool) {
        self.raw = raw
        self.name = raw.pointee.name.map { String(cString: $0) } ?? "unnamed"
        self.origin = origin
        self.ownsInstance = owns
    }

    /// Loads a backend shared library (the CUDA one) with `ck_load_backend`: dlopen, ABI check, instance creation
    /// on GPU `deviceIndex`. Throws `.unavailable` with the loader's exact reason.
    public static func load(library path: String, deviceIndex: Int = 0) throws(EngineError) -> Backend {
        var out: UnsafeMutablePointer<ck_backend>? = nil
        var err = [CChar](repeating: 0, count: 1024)
        let status = ck_load_backend(path, Int32(deviceIndex), &out, &err, err.count)
        guard status == CK_OK, let instance = out else {
            let reason = String(decoding: err.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .unavailable(backend: "cuda", reason: reason.isEmpty ? "ck_load_backend returned \(KernelStatus(status))" : reason)
        }
        return Backend(raw: instance, origin: path, owns: true)
    }

    deinit {
        if ownsInstance, let destroy = raw.pointee.destroy { destroy(raw) }
    }

    public var description: String { "Backend(\(name), \(origin))" }

    /// Backend pointers are ordinary host pointers (the CPU backend).
    public var hostMemory: Bool { raw.pointee.caps & UInt32(CK_CAP_HOST_MEMORY) != 0 }

    /// The backend's last error text ("" when none).
    public var lastError: String {
        guard let f = raw.pointee.last_error, let s = f(raw) else { return "" }
        return String(cString: s)
    }

    /// The table entry at `entry`, or `.unsupported` when the backend left it NULL.
    @inline(__always)
    func fn<F>(_ entry: KeyPath<ck_backend, F?>, _ operation: String) throws(EngineError) -> F {
        guard let f = raw.pointee[keyPath: entry] else { throw .unsupported(backend: name, operation: operation) }
        OpProfiler.begin()
        return f
    }

    /// Throws `.kernel` with `last_error` unless `status` is CK_OK.
    @inline(__always)
    func check(_ status: ck_status, _ operation: String) throws(EngineError) {
        OpProfiler.end(operation)
        if status != CK_OK {
            throw .kernel(backend: name, operation: operation, status: KernelStatus(status), message: lastError)
        }
    }

    // MARK: information and options

    /// Device name, memory, compute capability (CUDA) or worker threads (CPU).
    public func info() throws(EngineError) -> DeviceInfo {
        var out = ck_device_info()
        try check(fn(\.device_info, "device_info")(raw, &out), "device_info")
        let name = withUnsafeBytes(of: out.name) { bytes in
            String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return DeviceInfo(backend: self.name, name: name, totalMemory: out.total_memory, freeMemory: out.free_memory,
                          computeCapability: out.compute_major > 0 ? (Int(out.compute_major), Int(out.compute_minor)) : nil,
                          deviceIndex: Int(out.device_index), deviceCount: Int(out.device_count),
                          threads: Int(out.threads))
    }

    /// CPU worker threads (OpenBLAS and the kernels' loops). Ignored by backends without threads.
    public func setThreads(_ n: Int) throws(EngineError) {
        guard n >= 1 else { throw .invalidArgument(context: "Backend.setThreads", message: "threads must be >= 1, got \(n)") }
        try check(fn(\.set_option, "set_option")(raw, CK_OPT_THREADS, Int32(n)), "set_option(threads)")
    }

    /// Sets a raw backend option (`CK_OPT_ALLOW_TF32`, `CK_OPT_DETERMINISTIC`).
    public func setOption(_ option: ck_option, _ value: Int) throws(EngineError) {
        try check(fn(\.set_option, "set_option")(raw, option, Int32(value)), "set_option")
    }

    /// Waits until every queued operation has finished.
    public func sync() throws(EngineError) {
        try check(fn(\.sync, "sync")(raw), "sync")
    }

    // MARK: memory

    /// `bytes` of backend memory, 256-byte aligned; nil for zero bytes.
    public func allocate(bytes: Int) throws(EngineError) -> UnsafeMutableRawPointer? {
        guard bytes >= 0 else { throw .invalidArgument(context: "Backend.allocate", message: "negative size \(bytes)") }
        if bytes == 0 { return nil }
        var p: UnsafeMutableRawPointer? = nil
        try check(fn(\.alloc, "alloc")(raw, &p, bytes), "alloc(\(bytes) bytes)")
        return p
    }

    /// Releases memory from `allocate`; nil is allowed.
    public func release(_ pointer: UnsafeMutableRawPointer?) throws(EngineError) {
        try check(fn(\.free, "free")(raw, pointer), "free")
    }

    func copyToDevice(_ dst: UnsafeMutableRawPointer?, from host: UnsafeRawPointer, bytes: Int) throws(EngineError) {
        if bytes == 0 { return }
        try check(fn(\.copy_h2d, "copy_h2d")(raw, dst, host, bytes), "copy_h2d")
    }

    func copyToHost(_ host: UnsafeMutableRawPointer, from src: UnsafeRawPointer?, bytes: Int) throws(EngineError) {
        if bytes == 0 { return }
        try check(fn(\.copy_d2h, "copy_d2h")(raw, host, src, bytes), "copy_d2h")
    }

    func copyOnDevice(_ dst: UnsafeMutableRawPointer?, from src: UnsafeRawPointer?, bytes: Int) throws(EngineError) {
        if bytes == 0 { return }
        try check(fn(\.copy_d2d, "copy_d2d")(raw, dst, src, bytes), "copy_d2d")
    }

    func zero(_ dst: UnsafeMutableRawPointer?, bytes: Int) throws(EngineError) {
        if bytes == 0 { return }
        try check(fn(\.memset_zero, "memset_zero")(raw, dst, bytes), "memset_zero")
    }
}

/// What a backend reports about its device (`aitrader devices`).
public struct DeviceInfo: Sendable, Equatable {
    public var backend: String
    public var name: String
    public var totalMemory: UInt64
    public var freeMemory: UInt64
    /// CUDA compute capability (major, minor); nil for the CPU.
    public var computeCapability: (Int, Int)?
    public var deviceIndex: Int
    public var deviceCount: Int
    /// CPU worker threads; 0 for CUDA.
    public var threads: Int

    public static func == (a: DeviceInfo, b: DeviceInfo) -> Bool {
        a.backend == b.backend && a.name == b.name && a.totalMemory == b.totalMemory && a.freeMemory == b.freeMemory
            && a.computeCapability?.0 == b.computeCapability?.0 && a.computeCapability?.1 == b.computeCapability?.1
            && a.deviceIndex == b.deviceIndex && a.deviceCount == b.deviceCount && a.threads == b.threads
    }
}
