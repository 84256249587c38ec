import Common
import Foundation
import Testing
@testable import Engine

/// The CUDA backend's fallback path on a machine without a GPU, with a stand-in library
/// (CKernels/tests/fake_backend.c, compiled here with `cc`) that loads like libaitrader_cuda.so but reports
/// "no CUDA-capable device is detected (fake backend)", and with the real library when `make cuda` built it.
///
///     AITRADER_CUDA_LIB=CKernels/tests/libfake_nodevice.so aitrader devices
///     // cuda   unavailable: no CUDA-capable device is detected (fake backend)
///
/// Skipped (reported as skips) without a C compiler, and the real-library test without `make cuda`'s library;
/// failures instead where AITRADER_REQUIRE_REFERENCE=1 (CI builds both). A stand-in that does not compile fails.
@Suite(.serialized, .enabled(if: CCompiler.available || ReferencePython.isRequired(),
                             "no C compiler (cc) on PATH to build the stand-in backend"))
struct CUDAFallbackTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fakeReason = "no CUDA-capable device is detected (fake backend)"

    static let realLibrary = packageRoot.appendingPathComponent("build/cuda/libaitrader_cuda.so").path

    struct BuildFailed: Error, CustomStringConvertible { var description: String }

    /// Compiles the stand-in backend into a temporary folder; throws with the compiler's output when it fails.
    static func fakeBackend(defines: [String] = []) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-fake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lib = dir.appendingPathComponent("libaitrader_cuda.so").path
        let source = packageRoot.appendingPathComponent("CKernels/tests/fake_backend.c").path
        let include = packageRoot.appendingPathComponent("CKernels/include").path
        let result = try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-I", include] + defines + ["-o", lib, source])
        guard result.status == 0 else {
            throw BuildFailed(description: "cc could not build the stand-in backend: \(result.stderr)")
        }
        return lib
    }

    /// Runs a program; returns its exit status and combined output.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> (status: Int32, stdout: String, stderr: String) {
        let r = try Subprocess.run(executable, arguments, environment: environment)
        return (r.status, r.output, r.errorOutput)
    }

    /// The `aitrader` executable built beside this test bundle, if any.
    static func aitraderExecutable() -> String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("aitrader").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test func libraryThatFindsNoDeviceReportsTheReason() throws {
        let lib = try Self.fakeBackend()
        #expect(throws: EngineError.unavailable(backend: "cuda", reason: Self.fakeReason)) {
            try Backend.load(library: lib)
        }
    }

    /// The search of `Devices` honours AITRADER_CUDA_LIB and hands back the library's own reason (what
    /// `--device auto` logs once before using the CPU, and what `--device cuda` throws).
    @Test func deviceSearchReportsTheLibrarysReason() throws {
        let lib = try Self.fakeBackend()
        let environment = ["AITRADER_CUDA_LIB": lib]
        #expect(Devices.cudaLibraryCandidates(environment: environment).map(\.path) == [lib])
        guard case .failure(let error) = DeviceState(environment: environment).cuda(deviceIndex: 0) else {
            Issue.record("a library that finds no device must not produce a backend")
            return
        }
        #expect(error == .unavailable(backend: "cuda", reason: Self.fakeReason))
    }

    @Test func libraryOfAnotherABIVersionIsRefused() throws {
        let lib = try Self.fakeBackend(defines: ["-DFAKE_ABI=999"])
        do {
            _ = try Backend.load(library: lib)
            Issue.record("a library of ABI 999 must not load")
        } catch {
            guard case let .unavailable(backend, reason) = error else { Issue.record("\(error)"); return }
            #expect(backend == "cuda")
            #expect(reason.contains("has backend ABI version 999, this program needs"))
        }
    }

    /// The real library, when `make cuda` built it: on a machine without a GPU it must load (static CUDA runtime,
    /// driver loaded lazily) and report the CUDA runtime's reason; on a GPU machine it must create an instance.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: realLibrary) || ReferencePython.isRequired(),
                   "build/cuda/libaitrader_cuda.so is not built (make cuda-ci)"))
    func realLibraryLoadsAndExplainsOrRuns() throws {
        let path = Self.realLibrary
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is not built (make cuda-ci)")
        do {
            let gpu = try Backend.load(library: path)
            #expect(gpu.name == "cuda")
            #expect(try gpu.info().computeCapability != nil)
        } catch {
            guard case let .unavailable(_, reason) = error else { Issue.record("\(error)"); return }
            #expect(!reason.contains("cannot load"), "the library itself must load: \(reason)")
            #expect(reason.contains("cudaGetDeviceCount") || reason.contains("libcublas") || reason.contains("CUDA"))
        }
    }

    /// `aitrader devices` with AITRADER_CUDA_LIB pointing at the no-device library: CPU listed, CUDA unavailable
    /// with the library's exact reason, exit status 0; `aitrader bench --device cuda` fails with that reason.
    @Test func devicesCommandShowsTheReason() throws {
        let exe = try #require(Self.aitraderExecutable(), "the aitrader executable is not built beside the tests")
        let lib = try Self.fakeBackend()
        var env = ProcessInfo.processInfo.environment
        env["AITRADER_CUDA_LIB"] = lib
        let result = try Self.run(exe, ["devices"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("cpu "))
        #expect(result.stdout.contains("cuda   unavailable: \(Self.fakeReason)"), "\(result.stdout)")

        // `--device cuda` refuses with the same reason (before any work is done).
        let refused = try Self.run(exe, ["bench", "--suite", "kernels", "--device", "cuda", "--json"], environment: env)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("cuda backend unavailable: \(Self.fakeReason)"), "\(refused.stderr)")

        env["AITRADER_CUDA_LIB"] = "/nonexistent/libaitrader_cuda.so"
        let missing = try Self.run(exe, ["devices"], environment: env)
        #expect(missing.stdout.contains("cuda   unavailable:"), "\(missing.stdout)")
        #expect(missing.stdout.contains("/nonexistent/libaitrader_cuda.so"))
    }
}

/// Whether `cc` runs here (the stand-in backend is compiled from CKernels/tests/fake_backend.c).
enum CCompiler {
    static let available = (try? Subprocess.run("/usr/bin/env", ["cc", "--version"]))?.status == 0
}
