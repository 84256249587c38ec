import CKernels
import Common
import Foundation

/// Which backend a command should run on: `--device auto|cpu|cuda`.
public enum DeviceRequest: String, Sendable, CaseIterable {
    /// CUDA when its library loads and a GPU answers, else the CPU (the reason is logged once).
    case auto
    case cpu
    /// CUDA or an error saying exactly why not.
    case cuda
}

/// Finding and starting backends. The CUDA backend is a shared library (`libaitrader_cuda.so`, built by
/// `make cuda`) loaded at run time, looked for in this order:
///   1. `$AITRADER_CUDA_LIB` (a path; when set, no other place is tried),
///   2. next to the running executable,
///   3. `build/cuda/libaitrader_cuda.so` under the working directory (where `make cuda` puts it),
///   4. the dynamic linker's search path (`LD_LIBRARY_PATH`, ldconfig) via `dlopen("libaitrader_cuda.so")`.
///
///     let backend = try Devices.select(.auto, threads: 2)
///     print(backend.name)   // "cpu" on a machine without a GPU
public enum Devices {
    public static let cudaLibraryName = "libaitrader_cuda.so"

    /// The backend for `request`, with `threads` CPU worker threads applied to the CPU backend (which also does
    /// host-side work when CUDA computes).
    public static func select(_ request: DeviceRequest, threads: Int? = nil, deviceIndex: Int = 0) throws(EngineError) -> Backend {
        if let threads { try Backend.cpu.setThreads(threads) }
        switch request {
        case .cpu:
            return .cpu
        case .cuda:
            return try cuda(deviceIndex: deviceIndex).get()
        case .auto:
            switch cuda(deviceIndex: deviceIndex) {
            case .success(let backend):
                return backend
            case .failure(let error):
                state.logFallbackOnce(error)
                return .cpu
            }
        }
    }

    /// Parses `--device` text and selects.
    public static func select(device text: String, threads: Int? = nil) throws(EngineError) -> Backend {
        guard let request = DeviceRequest(rawValue: text.lowercased()) else {
            throw .invalidArgument(context: "--device", message: "expected auto, cpu or cuda, got '\(text)'")
        }
        return try select(request, threads: threads)
    }

    /// The CUDA backend on GPU `deviceIndex` (loaded once per process and device, then reused), or the exact
    /// reason it cannot run here.
    public static func cuda(deviceIndex: Int = 0) -> Result<Backend, EngineError> {
        state.cuda(deviceIndex: deviceIndex)
    }

    /// Where the CUDA library is looked for, in order, with a note on where each candidate comes from.
    public static func cudaLibraryCandidates(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> [(path: String, source: String)] {
        if let explicit = environment["AITRADER_CUDA_LIB"], !explicit.isEmpty {
            return [(explicit, "AITRADER_CUDA_LIB")]
        }
        var out: [(String, String)] = []
        if let exe = executableDirectory() {
            out.append((exe + "/" + cudaLibraryName, "next to the executable"))
        }
        let cwd = FileManager.default.currentDirectoryPath
        out.append((cwd + "/build/cuda/" + cudaLibraryName, "make cuda output"))
        out.append((cudaLibraryName, "library search path"))
        return out
    }

    static func executableDirectory() -> String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return CommandLine.arguments.first.map { ($0 as NSString).deletingLastPathComponent }
        }
        return (path as NSString).deletingLastPathComponent
    }

    /// Tries the candidates in order. A candidate path that does not exist is skipped; the first library that
    /// exists decides (its failure — ABI mismatch, no driver, no GPU — is the reason reported).
    static func loadCUDA(deviceIndex: Int, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> Result<Backend, EngineError> {
        var notFound: [String] = []
        for (path, source) in cudaLibraryCandidates(environment: environment) {
            let isPath = path.contains("/")
            if isPath && !FileManager.default.fileExists(atPath: path) {
                notFound.append("\(path) (\(source)) does not exist")
                continue
            }
            do {
                return .success(try Backend.load(library: path, deviceIndex: deviceIndex))
            } catch {
                if case let .unavailable(_, reason) = error, !isPath,
                   reason.contains("cannot open shared object file") {
                    notFound.append("\(path) not on the library search path")
                    continue
                }
                return .failure(error)
            }
        }
        return .failure(.unavailable(backend: "cuda",
                                     reason: "no \(cudaLibraryName) found (build it with `make cuda` on a machine with nvcc, "
                                         + "or set AITRADER_CUDA_LIB): " + notFound.joined(separator: "; ")))
    }

    private static let state = DeviceState()
}

/// Device state: loaded CUDA instances and whether the auto fallback was logged. `Devices` keeps the process-wide
/// one, which reads the process environment; a test makes its own with an environment of its own (no `setenv`,
/// which would race with every other reader of the process environment).
final class DeviceState: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [Int: Result<Backend, EngineError>] = [:]
    private var fallbackLogged = false
    private let environment: [String: String]?

    /// `environment`: where AITRADER_CUDA_LIB is read (nil: the process environment at the time of the load).
    init(environment: [String: String]? = nil) {
        self.environment = environment
    }

    func cuda(deviceIndex: Int) -> Result<Backend, EngineError> {
        lock.lock()
        defer { lock.unlock() }
        if let cached = loaded[deviceIndex] { return cached }
        let result = Devices.loadCUDA(deviceIndex: deviceIndex,
                                      environment: environment ?? ProcessInfo.processInfo.environment)
        loaded[deviceIndex] = result
        return result
    }

    func logFallbackOnce(_ error: EngineError) {
        lock.lock()
        let first = !fallbackLogged
        fallbackLogged = true
        lock.unlock()
        if first {
            let reason: String
            if case let .unavailable(_, r) = error { reason = r } else { reason = error.description }
            Log.info("device auto: using the CPU backend; CUDA unavailable", ["reason": reason])
        }
    }
}
