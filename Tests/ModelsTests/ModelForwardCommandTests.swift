import Common
import Engine
import Foundation
import Testing
@testable import Models

/// `aitrader model forward` on the checkpoints written by PyTorch (tools/reference/model_fixtures.py): the
/// output file matches PyTorch's outputs. Runs the built executable; skipped when it is not next to the tests.
@Suite struct ModelForwardCommandTests {
    static var executable: String? {
        var dir = Bundle.module.bundleURL.deletingLastPathComponent()
        for _ in 0 ..< 3 {
            let candidate = dir.appendingPathComponent("aitrader").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    @Test(.enabled(if: executable != nil, "the aitrader executable is not built next to the tests"),
          arguments: ModelType.allCases)
    func runsAPyTorchCheckpoint(_ type: ModelType) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-forward-\(getpid())-\(type.rawValue).safetensors").path
        defer { unlink(output) }
        let r = try Subprocess.run(try #require(Self.executable), [
            "model", "forward", "--checkpoint", try Parity.fixture("\(type.rawValue)_small.safetensors"),
            "--input", try Parity.fixture("\(type.rawValue)_small_io.safetensors"), "--output", output,
            "--device", "cpu", "--batch-size", "2"])
        let text = r.output + r.errorOutput
        #expect(r.status == 0, "\(text)")
        let written = try SafetensorsFile(contentsOf: output)
        let reference = try Parity.file("\(type.rawValue)_small_io.safetensors")
        #expect(written.metadata["model_type"] == type.rawValue)
        var compared = 0
        for (name, tensor) in written.tensors where reference.tensors[name] != nil {
            let e = Parity.relativeError(try tensor.floats(), try reference.floats(name))
            #expect(e <= 1e-4, "\(name): \(e)")
            compared += 1
        }
        #expect(compared == written.tensors.count && compared >= 3)
    }

    /// `AITRADER_PROFILE_OPS=1` (README): at exit, one row per kernel with its calls, total ms, share and mean,
    /// largest total first.
    @Test(.enabled(if: executable != nil, "the aitrader executable is not built next to the tests"))
    func profileOpsPrintsPerKernelTimes() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-profile-\(getpid()).safetensors").path
        defer { unlink(output) }
        var environment = ProcessInfo.processInfo.environment
        environment["AITRADER_PROFILE_OPS"] = "1"
        let r = try Subprocess.run(try #require(Self.executable), [
            "model", "forward", "--checkpoint", try Parity.fixture("short_term_small.safetensors"),
            "--input", try Parity.fixture("short_term_small_io.safetensors"), "--output", output,
            "--device", "cpu", "--batch-size", "2"], environment: environment)
        #expect(r.status == 0, "\(r.output)\(r.errorOutput)")
        let lines = r.errorOutput.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("op ") && $0.contains("calls") && $0.contains("mean us") },
                                  "no profile table in: \(r.errorOutput)")
        let rows = lines[(header + 1)...].map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count >= 3 && rows.allSatisfy { $0.count == 5 }, "\(rows)")
        let names = rows.map(\.[0])
        #expect(Set(names).count == names.count && names.contains("alloc"), "one row per kernel: \(names)")
        for op in ["linear_fwd", "conv1d_fwd", "lstm_fwd"] { #expect(names.contains(op), "\(names)") }
        #expect(!names.contains { $0.hasSuffix("_bwd") }, "inference ran a backward kernel: \(names)")
        let calls = rows.compactMap { Int($0[1]) }, totals = rows.compactMap { Double($0[2]) }
        let shares = rows.compactMap { Double($0[3]) }
        #expect(calls.count == rows.count && calls.allSatisfy { $0 >= 1 })
        #expect(totals == totals.sorted(by: >))
        let shareSum: Double = shares.reduce(0, +), rounding: Double = 0.05 * Double(rows.count) + 0.1
        #expect(abs(shareSum - 100) <= rounding, "\(shares)")
    }

    @Test(.enabled(if: executable != nil, "the aitrader executable is not built next to the tests"))
    func wrongInputShapeIsAClearError() throws {
        let r = try Subprocess.run(try #require(Self.executable), [
            "model", "forward", "--checkpoint", try Parity.fixture("short_term_small.safetensors"),
            "--input", try Parity.fixture("medium_term_small_io.safetensors"), "--output",
            FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-unused-\(UUID().uuidString).safetensors").path,
            "--device", "cpu"])
        let text = r.output + r.errorOutput
        #expect(r.status != 0)
        #expect(text.contains("'x'") && text.contains("(B, 10, 5)"), "\(text)")
    }
}
