import Foundation

/// The Python that runs the field's reference libraries (pyarrow, TA-Lib, pandas, backtesting.py, PyTorch) for
/// the live interop tests, the benchmarks' reference timings and the fixture scripts — found one way everywhere:
///
/// 1. `AITRADER_PYTHON`, when set. Set to the empty string, it means "no reference python": nothing is looked for.
/// 2. else the project's venv, `<root>/.venv/bin/python` (`make pydeps` makes it from
///    `tools/reference/requirements-ci.txt`; `make reference-venv` adds PyTorch and the rest), where the root is the
///    nearest folder at or above the working directory (or `root`) that holds `Package.swift` and `tools/reference`.
///
/// A test that needs a reference skips when none is found — unless `AITRADER_REQUIRE_REFERENCE=1` (CI sets it),
/// when it runs and fails, naming what is missing: a reference that vanishes from CI is a failure, never a pass.
///
///     if let python = ReferencePython.find(importing: ["talib"]) { ... run tools/reference/talib_fixtures.py ... }
///     @Test(.enabled(if: ReferencePython.shouldRun(importing: ["talib"]),
///                    Comment(rawValue: ReferencePython.unavailableReason(importing: ["talib"]))))
///     func live() throws { let python = try ReferencePython.requireFind(importing: ["talib"]); ... }
public enum ReferencePython {
    /// Names the interpreter (empty: none).
    public static let variable = "AITRADER_PYTHON"
    /// `1`: a missing reference fails the tests that need it instead of skipping them.
    public static let requireVariable = "AITRADER_REQUIRE_REFERENCE"

    /// True when `AITRADER_REQUIRE_REFERENCE=1`.
    public static func isRequired(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment[requireVariable] == "1"
    }

    /// The project root at or above `start` (a folder with `Package.swift` and `tools/reference`), or nil.
    public static func projectRoot(from start: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        -> URL? {
        var dir = start.standardizedFileURL
        for _ in 0 ..< 64 {
            let fm = FileManager.default
            if fm.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
               fm.fileExists(atPath: dir.appendingPathComponent("tools/reference").path) {
                return dir
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
        return nil
    }

    /// The interpreter to try (rule above), whether or not it exists; nil when none is configured or found.
    public static func candidate(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 root: URL? = nil) -> String? {
        if let explicit = environment[variable] { return explicit.isEmpty ? nil : explicit }
        guard let root = root ?? projectRoot() else { return nil }
        return root.appendingPathComponent(".venv/bin/python").path
    }

    /// The interpreter when it runs and every one of `modules` imports in it; nil otherwise (answers are cached
    /// per interpreter and module list for the life of the process).
    public static func find(importing modules: [String] = [],
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            root: URL? = nil) -> String? {
        guard let python = candidate(environment: environment, root: root),
              FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let key = python + "\u{0}" + modules.joined(separator: ",")
        if let known = cache.value(key) { return known ? python : nil }
        let code = modules.isEmpty ? "pass" : "import " + modules.joined(separator: ", ")
        let ok = (try? Subprocess.run(python, ["-c", code]))?.status == 0
        cache.set(key, ok)
        return ok ? python : nil
    }

    /// Whether a test that needs `modules` should run: they are available, or a reference is required (then the
    /// test runs and fails on `requireFind`).
    public static func shouldRun(importing modules: [String]) -> Bool {
        isRequired() || find(importing: modules) != nil
    }

    /// The interpreter, or an error that says what is missing and how to get it (for `try` in a test body).
    public static func requireFind(importing modules: [String]) throws -> String {
        if let python = find(importing: modules) { return python }
        throw Unavailable(description: unavailableReason(importing: modules))
    }

    /// Why `find(importing:)` found nothing, in the user's terms.
    public static func unavailableReason(importing modules: [String],
                                         environment: [String: String] = ProcessInfo.processInfo.environment,
                                         root: URL? = nil) -> String {
        let what = modules.isEmpty ? "a reference python" : "a reference python with " + modules.joined(separator: ", ")
        guard let python = candidate(environment: environment, root: root) else {
            return "\(what) is needed: \(variable) is empty or no project .venv was found (run `make pydeps`)"
        }
        if !FileManager.default.isExecutableFile(atPath: python) {
            return "\(what) is needed: \(python) does not exist (run `make pydeps`, or set \(variable))"
        }
        return "\(what) is needed: \(python) cannot import \(modules.joined(separator: ", ")) (run `make pydeps`)"
    }

    /// A missing reference, with its reason.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Import checks already made: interpreter + modules -> importable.
    private static let cache = ImportCache()

    private final class ImportCache: @unchecked Sendable {
        private let lock = NSLock()
        private var known: [String: Bool] = [:]
        func value(_ key: String) -> Bool? { lock.withLock { known[key] } }
        func set(_ key: String, _ value: Bool) { lock.withLock { known[key] = value } }
    }
}
