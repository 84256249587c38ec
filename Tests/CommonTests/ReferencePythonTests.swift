import Foundation
import Testing
@testable import Common

/// How the reference python is found: AITRADER_PYTHON (empty: none), else the project's .venv; import checks on a
/// stand-in interpreter (a shell script that "imports" every module but one).
@Suite struct ReferencePythonTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A folder laid out like a project (Package.swift, tools/reference) with an executable .venv/bin/python that
    /// exits 0 for `-c "import …"` unless the code names `missing_module`.
    static func fakeProject() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-refpy-\(UUID().uuidString)")
        let bin = root.appendingPathComponent(".venv/bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tools/reference"),
                                                withIntermediateDirectories: true)
        try Data().write(to: root.appendingPathComponent("Package.swift"))
        let python = bin.appendingPathComponent("python")
        try "#!/bin/sh\ncase \"$2\" in *missing_module*) exit 1;; esac\nexit 0\n".write(to: python, atomically: true,
                                                                                         encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
        return root
    }

    @Test func explicitVariableWinsAndEmptyMeansNone() {
        #expect(ReferencePython.candidate(environment: ["AITRADER_PYTHON": "/opt/py/bin/python3"]) == "/opt/py/bin/python3")
        #expect(ReferencePython.candidate(environment: ["AITRADER_PYTHON": ""]) == nil)
        #expect(ReferencePython.find(importing: ["json"], environment: ["AITRADER_PYTHON": ""]) == nil)
        #expect(ReferencePython.find(environment: ["AITRADER_PYTHON": "/does/not/exist/python"]) == nil)
    }

    @Test func projectVenvIsTheDefault() throws {
        let root = try Self.fakeProject()
        defer { try? FileManager.default.removeItem(at: root) }
        let venv = root.appendingPathComponent(".venv/bin/python").path
        #expect(ReferencePython.candidate(environment: [:], root: root) == venv)
        // found from a folder below the root, as from a test's working directory
        let below = root.appendingPathComponent("tools/reference")
        #expect(ReferencePython.projectRoot(from: below)?.standardizedFileURL.path == root.standardizedFileURL.path)
        #expect(ReferencePython.find(importing: ["pandas", "talib"], environment: [:], root: root) == venv)
        #expect(ReferencePython.find(importing: ["pandas", "missing_module"], environment: [:], root: root) == nil)
        let reason = ReferencePython.unavailableReason(importing: ["missing_module"], environment: [:], root: root)
        #expect(reason.contains(venv) && reason.contains("cannot import missing_module") && reason.contains("make pydeps"))
        #expect(ReferencePython.unavailableReason(importing: ["x"], environment: ["AITRADER_PYTHON": "/nope/python"])
            .contains("/nope/python does not exist"))
        // the explicit variable is used even when a .venv exists
        #expect(ReferencePython.find(importing: ["pandas"], environment: ["AITRADER_PYTHON": ""], root: root) == nil)
    }

    @Test func thisRepositoryIsAProjectRoot() {
        let inside = Self.packageRoot.appendingPathComponent("Sources/Common")
        #expect(ReferencePython.projectRoot(from: inside)?.standardizedFileURL.path
            == Self.packageRoot.standardizedFileURL.path)
        #expect(ReferencePython.projectRoot(from: URL(fileURLWithPath: "/")) == nil)
    }

    @Test func requiredOnlyWithTheVariableSetToOne() {
        #expect(ReferencePython.isRequired(environment: ["AITRADER_REQUIRE_REFERENCE": "1"]))
        #expect(!ReferencePython.isRequired(environment: ["AITRADER_REQUIRE_REFERENCE": "0"]))
        #expect(!ReferencePython.isRequired(environment: [:]))
    }

    @Test func testSeedReplaysFromTheEnvironment() {
        #expect(SplitMix64.testSeed(environment: ["AITRADER_TEST_SEED": "12345"]) == 12345)
        #expect(SplitMix64.testSeed(environment: [:]) != 0)
    }
}
