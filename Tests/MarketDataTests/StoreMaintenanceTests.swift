import Common
import Foundation
import Testing
@testable import MarketData
#if canImport(Glibc)
import Glibc
#endif

/// Files under `dir`, relative, sorted (for "nothing else changed" checks).
func filesUnder(_ dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).sorted()
}

/// Overwrites bytes in the middle of a file, as disk or user damage would.
func damage(_ path: String) throws {
    var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
    for i in (bytes.count / 3)..<(bytes.count / 3 + 64) { bytes[i] ^= 0x5A }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A store is consistent when every catalogue entry's files (base and parts) exist and match their checksums, no
/// deletion is left pending after a writable open, and (`noOrphans`) no dataset file lies outside the catalogue.
func expectConsistent(_ root: String, noOrphans: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let store = try ParquetBarStore(root: root)
    for d in try store.datasets() {
        #expect(throws: Never.self, sourceLocation: sourceLocation) { try store.verify(symbol: d.symbol, timeframe: d.timeframe) }
        #expect(try store.read(symbol: d.symbol, timeframe: d.timeframe).count == d.rows, sourceLocation: sourceLocation)
    }
    #expect(try store.metadata.pendingDeletes().isEmpty, sourceLocation: sourceLocation)
    if noOrphans {
        let catalogued = Set(try store.datasets().flatMap { $0.files.map(\.path) })
        let scan = store.scanBarFiles()
        let files = (scan.datasets + scan.generated).map(\.relative)
        #expect(files.filter { !catalogued.contains($0) } == [], "files outside the catalogue", sourceLocation: sourceLocation)
    }
}

@Suite struct StoreRepairTests {
    @Test func replaceImportSucceedsOverADamagedFileAndKeepsIt() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(300)
        try store.append(all, source: "a")
        let file = dir + "/bars/TEST/1h.parquet"
        try damage(file)
        let damagedBytes = try Data(contentsOf: URL(fileURLWithPath: file))
        do {
            try store.append(all, source: "b")
            Issue.record("append over a damaged file accepted")
        } catch {
            #expect(error.kind == .checksumMismatch)
            #expect(error.description.contains("--replace") && error.description.contains("aitrader data repair"))
        }
        let r = try store.append(all[0..<200], source: "c", overlap: .replace)
        #expect(r.totalRows == 200 && r.rowsAdded == 200 && r.damagedFileProblem != nil)
        let kept = try #require(r.damagedFileKeptAt)
        #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == damagedBytes)
        #expect(try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .h1) == all[0..<200])
        try expectConsistent(dir)
    }

    @Test func replaceImportSucceedsWhenTheFileIsMissing() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(100), source: "a")
        try FileManager.default.removeItem(atPath: dir + "/bars/TEST/1h.parquet")
        do {
            _ = try store.read(symbol: "TEST", timeframe: .h1)
            Issue.record("missing file read")
        } catch {
            #expect(error.description.contains("no such file or directory"), "\(error)")
            #expect(!error.description.contains("NSCocoaErrorDomain"))
        }
        let r = try store.append(syntheticBars(50), source: "b", overlap: .replace)
        #expect(r.totalRows == 50 && r.damagedFileKeptAt == nil)
        #expect(try store.dataset(symbol: "TEST", timeframe: .h1)?.rows == 50)
        try expectConsistent(dir)
    }

    @Test func repairRebuildsTheCatalogueFromTheFiles() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(100, symbol: "GONE"), source: "a")        // file deleted by hand
        try store.append(syntheticBars(100, symbol: "BAD"), source: "b")         // file damaged
        try store.append(syntheticBars(100, symbol: "EDIT"), source: "c")        // file rewritten outside AITrader
        try store.append(syntheticBars(100, symbol: "FINE"), source: "d")
        try FileManager.default.removeItem(atPath: dir + "/bars/GONE/1h.parquet")
        try damage(dir + "/bars/BAD/1h.parquet")
        let edited = syntheticBars(40, symbol: "EDIT", seed: 2)
        try edited.writeParquet(to: dir + "/bars/EDIT/1h.parquet")
        // A good file nobody catalogued (BTC/USD, escaped), and a stale temporary file of a crashed write.
        let btc = syntheticBars(30, symbol: "BTC/USD", timeframe: .d1)
        try AtomicFile.createDirectories(dir + "/bars/BTC%2FUSD")
        try btc.writeParquet(to: dir + "/bars/BTC%2FUSD/1d.parquet")
        FileManager.default.createFile(atPath: dir + "/bars/FINE/.1h.parquet.tmp-1-2", contents: Data([1, 2, 3]))

        let report = try store.repair()
        func action(_ symbol: String) -> RepairReport.Action? { report.entries.first { $0.symbol == symbol }?.action }
        #expect(action("GONE") == .dropped)
        #expect(action("BAD") == .setAside)
        #expect(action("EDIT") == .updated)
        #expect(action("FINE") == .ok)
        #expect(action("BTC/USD") == .added)
        #expect(report.entries.contains { $0.action == .removedTemporary })
        #expect(report.description.contains("dropped: GONE 1h") && report.description.contains("file missing"), "\(report)")

        #expect(try store.datasets().map(\.symbol) == ["BTC/USD", "EDIT", "FINE"])
        #expect(try store.read(symbol: "EDIT", timeframe: .h1) == edited)
        #expect(try store.dataset(symbol: "EDIT", timeframe: .h1)?.source == "c")
        #expect(try store.read(symbol: "BTC/USD", timeframe: .d1) == btc)
        let damagedCopies = try FileManager.default.contentsOfDirectory(atPath: dir + "/damaged/BAD")
        #expect(damagedCopies.count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir + "/bars/BAD/1h.parquet"))
        try expectConsistent(dir)
        #expect(try store.repair().isClean)
    }
}

@Suite struct StoreDeleteTests {
    @Test func deleteRemovesFilesAndCatalogueEntry() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        var bars = syntheticBars(20).bars
        bars[3].volume = -1
        let w = try store.append(BarSeries(symbol: "TEST", timeframe: .h1, bars: bars), source: "x", badRows: .quarantine)
        try store.append(syntheticBars(10, symbol: "KEEP"), source: "y")
        let quarantine = try #require(w.quarantinePath)
        let result = try store.delete(symbol: "TEST", timeframe: .h1)
        #expect(result.rows == 19)
        #expect(Set(result.removedFiles) == [dir + "/bars/TEST/1h.parquet", quarantine])
        #expect(!FileManager.default.fileExists(atPath: dir + "/bars/TEST/1h.parquet"))
        #expect(!FileManager.default.fileExists(atPath: quarantine))
        #expect(try store.dataset(symbol: "TEST", timeframe: .h1) == nil)
        #expect(try store.metadata.quarantine(symbol: "TEST", timeframe: .h1).isEmpty)
        #expect(try ParquetBarStore(root: dir).datasets().map(\.symbol) == ["KEEP"])
        do {
            try store.delete(symbol: "TEST", timeframe: .h1)
            Issue.record("second delete succeeded")
        } catch {
            #expect(error.kind == .notFound && error.description.contains("no dataset TEST 1h to delete"))
        }
        // Repair does not bring it back, and a fresh import works.
        #expect(try store.repair().isClean)
        #expect(try store.append(syntheticBars(5), source: "z").totalRows == 5)
        try expectConsistent(dir)
    }

    @Test func deleteOfADamagedOrUncataloguedDatasetWorks() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(20), source: "x")
        try damage(dir + "/bars/TEST/1h.parquet")
        #expect(try store.delete(symbol: "TEST", timeframe: .h1).rows == 20)
        try syntheticBars(5, symbol: "LOOSE").writeParquet(to: dir + "/bars/LOOSE/1h.parquet")
        #expect(try store.delete(symbol: "LOOSE", timeframe: .h1).rows == nil)
        #expect(filesUnder(dir + "/bars").isEmpty)
        try expectConsistent(dir)
    }
}

@Suite struct ReadOnlyStoreTests {
    @Test func openingAMissingStoreCreatesNothing() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let root = dir + "/does/not/exist/store"
        do {
            _ = try ParquetBarStore(readOnly: root)
            Issue.record("missing store opened")
        } catch {
            #expect(error.kind == .noStore)
            #expect(error.description.contains(root) && error.description.contains("no bar store"))
        }
        #expect(try ParquetBarStore.datasets(root: root).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/does"))
        // An existing directory without a store stays empty too.
        #expect(try ParquetBarStore.datasets(root: dir).isEmpty)
        #expect(filesUnder(dir).isEmpty)
    }

    @Test func readsAnExistingStoreAndRefusesWrites() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let bars = syntheticBars(50)
        try ParquetBarStore(root: dir).append(bars, source: "a")
        let catalogue = try Data(contentsOf: URL(fileURLWithPath: dir + "/metadata.sqlite"))
        let store = try ParquetBarStore(readOnly: dir)
        #expect(store.isReadOnly)
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == bars)
        #expect(try store.datasets().count == 1)
        try store.verify(symbol: "TEST", timeframe: .h1)
        #expect(throws: StorageError.self) { try store.append(syntheticBars(60), source: "b") }
        #expect(throws: StorageError.self) { try store.delete(symbol: "TEST", timeframe: .h1) }
        #expect(throws: StorageError.self) { try store.repair() }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/metadata.sqlite")) == catalogue)
        #expect(try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .h1) == bars)
    }
}

/// Crash safety under `kill -9`: a child process (this test binary, re-run on `StoreCrashChild`) starts a delete
/// or repair and stops at a chosen point (inside the catalogue transaction, or just after its commit), or runs
/// deletes and imports in a loop; the parent kills it with SIGKILL there (or at a random moment) and checks that
/// the store is consistent and the outcome is all-or-nothing.
@Suite(.serialized) struct StoreCrashTests {
    /// Runs the child for `role` on `root`; kills it with SIGKILL once it reaches its stop point (or after
    /// `killAfter` seconds). Returns whether it was killed (rather than exiting).
    static func runChild(role: String, root: String, killAfter: Double? = nil) throws -> Bool {
        let marker = root + ".stopped"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--testing-library", "swift-testing", "--filter", "StoreCrashChild"]
        var env = ProcessInfo.processInfo.environment
        env["AITRADER_CRASH_ROLE"] = role
        env["AITRADER_CRASH_ROOT"] = root
        env["AITRADER_CRASH_MARKER"] = marker
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(killAfter ?? 120)
        while process.isRunning && Date() < deadline && !FileManager.default.fileExists(atPath: marker) {
            usleep(2_000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: marker)
        return killed && (killAfter != nil || process.terminationReason == .uncaughtSignal)
    }

    static func prepared(_ dir: String) throws -> ParquetBarStore {
        let store = try ParquetBarStore(root: dir)
        var bars = syntheticBars(200).bars
        bars[5].high = bars[5].low - 1
        try store.append(BarSeries(symbol: "TEST", timeframe: .h1, bars: bars), source: "a", badRows: .quarantine)
        try store.append(syntheticBars(100, symbol: "KEEP"), source: "b")
        return store
    }

    @Test func killedDeleteIsAllOrNothing() throws {
        for point in ["beforeCommit", "afterCommit"] {
            let dir = Scratch.directory()
            defer { Scratch.remove(dir) }
            _ = try Self.prepared(dir)
            #expect(try Self.runChild(role: "delete:\(point)", root: dir), "child did not reach \(point)")
            let store = try ParquetBarStore(root: dir)   // a writable open finishes a committed delete
            if point == "beforeCommit" {
                #expect(try store.dataset(symbol: "TEST", timeframe: .h1)?.rows == 199)
                #expect(try store.read(symbol: "TEST", timeframe: .h1).count == 199)
                #expect(try store.metadata.quarantine(symbol: "TEST", timeframe: .h1).count == 1)
            } else {
                #expect(try store.dataset(symbol: "TEST", timeframe: .h1) == nil)
                #expect(!FileManager.default.fileExists(atPath: dir + "/bars/TEST/1h.parquet"))
                #expect(!filesUnder(dir + "/quarantine").contains { $0.hasSuffix(".parquet") })
            }
            #expect(try store.read(symbol: "KEEP", timeframe: .h1).count == 100)
            try expectConsistent(dir)
        }
    }

    @Test func killedRepairLeavesAConsistentStore() throws {
        for point in ["beforeCommit", "afterCommit"] {
            let dir = Scratch.directory()
            defer { Scratch.remove(dir) }
            _ = try Self.prepared(dir)
            try damage(dir + "/bars/TEST/1h.parquet")
            try FileManager.default.removeItem(atPath: dir + "/bars/KEEP/1h.parquet")
            #expect(try Self.runChild(role: "repair:\(point)", root: dir), "child did not reach \(point)")
            let store = try ParquetBarStore(root: dir)
            if point == "beforeCommit" {
                // Nothing committed: the catalogue is as before, the damaged file still in place.
                #expect(try store.datasets().count == 2)
                #expect(FileManager.default.fileExists(atPath: dir + "/bars/TEST/1h.parquet"))
            } else {
                #expect(try store.datasets().isEmpty)
                #expect(!FileManager.default.fileExists(atPath: dir + "/bars/TEST/1h.parquet"))
                try expectConsistent(dir)
            }
            // Whatever the kill left, a repair run completes it; the damaged bytes survive in damaged/.
            _ = try store.repair()
            try expectConsistent(dir)
            #expect(filesUnder(dir + "/damaged").contains { $0.hasPrefix("TEST/1h-damaged-") })
        }
    }

    @Test func killAtRandomMomentsDuringDeletesAndImports() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        _ = try Self.prepared(dir)
        var generator = SystemRandomNumberGenerator()
        let progress = dir + ".progress"
        defer { try? FileManager.default.removeItem(atPath: progress) }
        for round in 0..<6 {
            let wait = Double.random(in: 0.3...1.2, using: &generator)
            _ = try Self.runChild(role: "churn", root: dir, killAfter: wait)
            // Imports can leave an uncatalogued file when killed between rename and commit; repair adopts it.
            try expectConsistent(dir, noOrphans: false)
            _ = try ParquetBarStore(root: dir).repair()
            try expectConsistent(dir)
            #expect(try ParquetBarStore(root: dir).read(symbol: "KEEP", timeframe: .h1).count == 100, "round \(round)")
        }
        // The kills landed while the child was deleting and importing, not before it started.
        let cycles = (try? String(contentsOfFile: progress, encoding: .utf8))?.count ?? 0
        #expect(cycles >= 6, "only \(cycles) delete+import cycles ran before the kills")
    }

    /// The minute bars the append child writes, 10 at a time: bar i is the same in every process.
    static let appendedBars = syntheticBars(20_000, timeframe: .m1)

    /// Appends and compactions killed at random moments: after each kill the store opens, verifies, holds no file
    /// outside the catalogue, and holds exactly the first n bars, n at least what the child reported committed.
    @Test func killAtRandomMomentsDuringAppendsAndCompactions() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        try ParquetBarStore(root: dir).append(Self.appendedBars[0..<5000], source: "base")
        let progress = dir + ".committed"
        defer { try? FileManager.default.removeItem(atPath: progress) }
        var generator = SystemRandomNumberGenerator()
        var last = 5000
        for round in 0..<8 {
            _ = try Self.runChild(role: "appends", root: dir, killAfter: Double.random(in: 0.5...1.5, using: &generator))
            let reported = Int((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "") ?? 0
            let store = try ParquetBarStore(root: dir)
            try expectConsistent(dir)
            let stored = try store.read(symbol: "TEST", timeframe: .m1)
            #expect(stored.count >= max(reported, last), "round \(round): \(stored.count) bars, child reported \(reported)")
            #expect(stored.count <= reported + 10, "round \(round): more than one unreported append")
            #expect(stored == Self.appendedBars[0..<stored.count], "round \(round): stored bars differ from those appended")
            last = stored.count
        }
        #expect(last >= 5000 + 8 * 10, "too few appends ran before the kills (\(last - 5000) bars)")
    }

    /// A compaction killed after its new base is in place but before the commit leaves the old files in force;
    /// killed after the commit, the new base; either way the bars read the same, and nothing is left over.
    @Test func killedCompactionIsAllOrNothing() throws {
        for point in ["beforeCommit", "afterCommit"] {
            let dir = Scratch.directory()
            defer { Scratch.remove(dir) }
            let store = try ParquetBarStore(root: dir)
            try store.append(Self.appendedBars[0..<1000], source: "base")
            for k in 0..<5 { try store.append(Self.appendedBars[(1000 + 10 * k)..<(1010 + 10 * k)], source: "part") }
            #expect(try Self.runChild(role: "compact:\(point)", root: dir), "child did not reach \(point)")
            let reopened = try ParquetBarStore(root: dir)
            let record = try #require(try reopened.dataset(symbol: "TEST", timeframe: .m1))
            #expect(record.parts.count == (point == "beforeCommit" ? 5 : 0))
            #expect(try reopened.read(symbol: "TEST", timeframe: .m1) == Self.appendedBars[0..<1050])
            try expectConsistent(dir)
            #expect(filesUnder(dir + "/bars/TEST").count == record.files.count)
        }
    }

    /// An append killed after its part file is renamed into place but before the commit: the bars are not in the
    /// dataset (the append never reported success), and the file is gone after the next open.
    @Test func killedAppendLeavesNoTrace() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        try ParquetBarStore(root: dir).append(Self.appendedBars[0..<1000], source: "base")
        #expect(try Self.runChild(role: "append:beforeCommit", root: dir), "child did not stop")
        #expect(filesUnder(dir + "/bars/TEST").contains("1m.part-00000001.parquet"), "the part file was in place")
        let store = try ParquetBarStore(root: dir)
        #expect(try store.read(symbol: "TEST", timeframe: .m1) == Self.appendedBars[0..<1000])
        #expect(filesUnder(dir + "/bars/TEST") == ["1m.parquet"])
        try expectConsistent(dir)
    }
}

/// The child side of `StoreCrashTests` (runs only when started by it, with AITRADER_CRASH_ROLE set).
@Suite struct StoreCrashChild {
    static let role = ProcessInfo.processInfo.environment["AITRADER_CRASH_ROLE"]

    /// Signals the parent and waits to be killed.
    static func stop() {
        FileManager.default.createFile(atPath: ProcessInfo.processInfo.environment["AITRADER_CRASH_MARKER"]!, contents: nil)
        while true { sleep(1) }
    }

    @Test(.enabled(if: role != nil, "the child process of the kill -9 tests: runs only when they start it"))
    func run() throws {
        let root = ProcessInfo.processInfo.environment["AITRADER_CRASH_ROOT"]!
        let store = try ParquetBarStore(root: root)
        switch Self.role {
        case "delete:beforeCommit": try store.delete(symbol: "TEST", timeframe: .h1, beforeCommit: Self.stop, afterCommit: nil)
        case "delete:afterCommit": try store.delete(symbol: "TEST", timeframe: .h1, beforeCommit: nil, afterCommit: Self.stop)
        case "repair:beforeCommit": try store.repair(beforeCommit: Self.stop, afterCommit: nil)
        case "repair:afterCommit": try store.repair(beforeCommit: nil, afterCommit: Self.stop)
        case "compact:beforeCommit": try store.compact(symbol: "TEST", timeframe: .m1, beforeCommit: Self.stop, afterCommit: nil)
        case "compact:afterCommit": try store.compact(symbol: "TEST", timeframe: .m1, beforeCommit: nil, afterCommit: Self.stop)
        case "append:beforeCommit":
            // Stops inside the transaction, after the part file's rename: the hook runs just before it, so stop at
            // the commit instead by holding the transaction open from a nested one.
            try store.metadata.database.transaction { () throws(StorageError) in
                try store.append(StoreCrashTests.appendedBars[1000..<1010], source: "killed")
                Self.stop()
            }
        case "appends":
            // Appends 10 bars at a time, compacting every 8 parts; after each commit, reports the bar count.
            let appender = try ParquetBarStore(root: root, maxParts: 8)
            while true {
                let n = try appender.dataset(symbol: "TEST", timeframe: .m1)?.rows ?? 0
                guard n + 10 <= StoreCrashTests.appendedBars.count else { break }
                try appender.append(StoreCrashTests.appendedBars[n..<(n + 10)], source: "robot")
                try String(n + 10).write(toFile: root + ".committed", atomically: true, encoding: .utf8)
            }
        case "churn":
            var i = 0
            while true {
                i += 1
                try? store.delete(symbol: "TEST", timeframe: .h1)
                try store.append(syntheticBars(2000 + i % 7, seed: Double(i)), source: "churn \(i)", overlap: .replace)
                if let h = FileHandle(forWritingAtPath: root + ".progress") ?? {
                    FileManager.default.createFile(atPath: root + ".progress", contents: nil)
                    return FileHandle(forWritingAtPath: root + ".progress")
                }() {
                    h.seekToEndOfFile()
                    h.write(Data("x".utf8))
                    try? h.close()
                }
            }
        default: Issue.record("unknown role \(Self.role ?? "")")
        }
    }
}
