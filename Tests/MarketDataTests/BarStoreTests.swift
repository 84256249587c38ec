import Common
import Foundation
import Testing
@testable import MarketData

/// `n` valid hourly bars from 2024-01-01.
func syntheticBars(_ n: Int, symbol: String = "TEST", timeframe: Timeframe = .h1, from start: Int64? = nil,
                   seed: Double = 0) -> BarSeries {
    let t0 = start ?? UTCTime.milliseconds(year: 2024, month: 1, day: 1)
    var bars: [Bar] = []
    for i in 0..<n {
        let mid = 100 + 10 * sin(Double(i) * 0.01 + seed)
        bars.append(Bar(timestamp: t0 + Int64(i) * timeframe.milliseconds, open: mid - 0.1, high: mid + 0.5,
                        low: mid - 0.5, close: mid + 0.1, volume: Double(i % 1000)))
    }
    return BarSeries(symbol: symbol, timeframe: timeframe, bars: bars)
}

struct InjectedFailure: Error {}

final class FailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ m: String) { lock.lock(); messages.append(m); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}

@Suite struct BarValidatorTests {
    @Test func reportsEachRuleWithRowAndValues() {
        var bars = syntheticBars(10).bars
        bars[1].high = bars[1].low - 1                     // low > high
        bars[2].open = bars[2].high + 1                    // open above high
        bars[3].volume = -5
        bars[4].close = .nan
        bars[6].timestamp = bars[5].timestamp              // duplicate
        bars[8].timestamp = bars[2].timestamp              // out of order
        let report = BarValidator().validate(BarSeries(symbol: "X", timeframe: .h1, bars: bars))
        #expect(report.badRows == [1, 2, 3, 4, 6, 8])
        #expect(report.count(of: .ohlcConsistency) == 2)
        #expect(report.count(of: .negativeVolume) == 1)
        #expect(report.count(of: .nonFinite) == 1)
        #expect(report.count(of: .duplicateTimestamp) == 1)
        #expect(report.count(of: .timestampOrder) == 1)
        let issue = report.issues.first { $0.rule == .negativeVolume }!
        #expect(issue.index == 3 && issue.timestamp == bars[3].timestamp && issue.bar.volume == -5)
        #expect(report.description.contains("6 of 10 rows invalid"))
        let (good, bad) = BarValidator.split(BarSeries(symbol: "X", timeframe: .h1, bars: bars), report: report)
        #expect(good.count == 4 && bad.count == 6)
        #expect(BarValidator().validate(good).isClean)
    }

    @Test func acceptsTheBundledSample() throws {
        let eur = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        #expect(BarValidator().validate(eur).isClean)
    }
}

@Suite struct MetadataStoreTests {
    @Test func appliesMigrationsInOrderAndKeepsData() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let path = dir + "/m.sqlite"
        do {
            let v1 = try MetadataStore(path: path, migrations: Array(MetadataStore.migrations.prefix(1)))
            #expect(try v1.schemaVersion() == 1)
            try v1.database.run("""
                INSERT INTO datasets (symbol, timeframe, source, first_ts, last_ts, rows, checksum, path, updated_at)
                VALUES ('EURUSD', '1h', 'csv', 1, 2, 2, 'abc', 'bars/EURUSD/1h.parquet', 3)
                """)
        }
        let current = try MetadataStore(path: path)
        #expect(try current.schemaVersion() == MetadataStore.migrations.last!.version)
        let record = try current.dataset(symbol: "EURUSD", timeframe: .h1)
        #expect(record?.rows == 2 && record?.quarantinedRows == 0 && record?.checksum == "abc")
        let versions = try current.database.query("SELECT version FROM schema_version ORDER BY version").map { $0[0].int! }
        #expect(versions == MetadataStore.migrations.map { Int64($0.version) })
        #expect(try current.database.query("PRAGMA journal_mode").first?.first?.string == "wal")
    }

    @Test func failedMigrationRollsBackAndNamesSQLiteError() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let path = dir + "/m.sqlite"
        let broken = MetadataStore.migrations + [MetadataMigration(
            version: 99, summary: "broken", sql: "CREATE TABLE extra (a INTEGER); ALTER TABLE nosuchtable ADD COLUMN b")]
        do {
            _ = try MetadataStore(path: path, migrations: broken)
            Issue.record("broken migration accepted")
        } catch {
            #expect(error.kind == .database)
            #expect(error.reason.contains("no such table"))
            #expect(error.reason.contains("left at version \(MetadataStore.migrations.last!.version)"))
        }
        let store = try MetadataStore(path: path)
        #expect(try store.schemaVersion() == MetadataStore.migrations.last!.version)
        #expect(try store.database.query("SELECT name FROM sqlite_master WHERE name = 'extra'").isEmpty)
    }

    @Test func refusesNewerSchema() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let path = dir + "/m.sqlite"
        _ = try MetadataStore(path: path)
        #expect(throws: StorageError.self) {
            _ = try MetadataStore(path: path, migrations: Array(MetadataStore.migrations.prefix(1)))
        }
    }
}

@Suite struct ParquetBarStoreTests {
    @Test func writesReadsAndCataloguesTheSample() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let eur = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        let result = try store.append(eur, source: "csv:EURUSD_H1.csv")
        #expect(result.rowsAdded == 5000 && result.totalRows == 5000)
        #expect(FileManager.default.fileExists(atPath: dir + "/bars/EURUSD/1h.parquet"))
        #expect(try store.read(symbol: "EURUSD", timeframe: .h1) == eur)
        let record = try #require(try store.dataset(symbol: "EURUSD", timeframe: .h1))
        #expect(record.rows == 5000 && record.source == "csv:EURUSD_H1.csv")
        #expect(record.firstTimestamp == eur.timestamps.first && record.lastTimestamp == eur.timestamps.last)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/bars/EURUSD/1h.parquet")))
        #expect(record.checksum == SHA256.hex(bytes))
        #expect(try store.datasets().map(\.symbol) == ["EURUSD"])
        // A second store instance sees the same catalogue.
        #expect(try ParquetBarStore(root: dir).read(symbol: "EURUSD", timeframe: .h1).count == 5000)
    }

    @Test func appendsSkipsIdenticalOverlapAndRejectsConflicts() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(300)
        try store.append(all[0..<200], source: "a")
        let r = try store.append(all[150..<300], source: "b")
        #expect(r.rowsAdded == 100 && r.rowsSkipped == 50 && r.totalRows == 300)
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all)
        // Same bars again: nothing to do, file untouched.
        let again = try store.append(all[0..<10], source: "c")
        #expect(again.rowsAdded == 0 && again.rowsSkipped == 10 && again.checksum == r.checksum)

        var changed = all[100..<101].bars
        changed[0].close += 0.01
        let conflict = BarSeries(symbol: "TEST", timeframe: .h1, bars: changed)
        do {
            try store.append(conflict, source: "d")
            Issue.record("conflicting bar accepted")
        } catch {
            #expect(error.kind == .overlapConflict)
        }
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all)
        let replaced = try store.append(conflict, source: "d", overlap: .replace)
        #expect(replaced.rowsReplaced == 1)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).close[100] == changed[0].close)
        // Back-filling a gap before the first bar merges in order.
        let early = syntheticBars(5, from: all.timestamps[0] - 5 * Timeframe.h1.milliseconds)
        #expect(try store.append(early, source: "e").rowsAdded == 5)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).count == 305)
    }

    @Test func rejectsInvalidBarsWithReportAndWritesNothing() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        var bars = syntheticBars(20).bars
        bars[7].low = bars[7].high + 1
        do {
            try store.append(BarSeries(symbol: "TEST", timeframe: .h1, bars: bars), source: "x")
            Issue.record("invalid bars accepted")
        } catch {
            #expect(error.kind == .validation)
            #expect(error.report?.badRows == [7])
        }
        #expect(try store.datasets().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir + "/bars/TEST/1h.parquet"))
    }

    @Test func quarantinesInvalidBarsWhenAsked() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        var bars = syntheticBars(20).bars
        bars[3].volume = -1
        bars[9].close = .infinity
        let r = try store.append(BarSeries(symbol: "TEST", timeframe: .h1, bars: bars), source: "x", badRows: .quarantine)
        #expect(r.rowsAdded == 18 && r.rowsQuarantined == 2)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).count == 18)
        #expect(try store.dataset(symbol: "TEST", timeframe: .h1)?.quarantinedRows == 2)
        let q = try store.metadata.quarantine(symbol: "TEST", timeframe: .h1)
        #expect(q.count == 1 && q[0].rows == 2 && q[0].rules.contains("negative_volume=1"))
        let table = try ParquetReader(path: try #require(r.quarantinePath)).readAll()
        #expect(table["row"]?.int64s == [3, 9])
        #expect(table["rule"]?.strings == ["negative_volume", "non_finite"])
    }

    @Test func failedWriteLeavesPreviousFileAndCatalogue() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(100)
        let first = try store.append(all[0..<50], source: "a")
        let path = dir + "/bars/TEST/1h.parquet"
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StorageError.self) {
            try store.store(all[50..<100], source: "b", merge: true, overlap: .rejectConflicts, badRows: .reject,
                            beforeRename: { throw InjectedFailure() })
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let record = try store.dataset(symbol: "TEST", timeframe: .h1)
        #expect(record?.rows == 50 && record?.checksum == first.checksum && record?.source == "a")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/bars/TEST") == ["1h.parquet"])
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all[0..<50])
    }

    @Test func concurrentWritersThroughSeparateConnectionsLoseNothing() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let all = syntheticBars(400)
        let stores = [try ParquetBarStore(root: dir), try ParquetBarStore(root: dir)]
        let failures = FailureLog()
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            // Writer w appends every other 20-bar block, so the two interleave in time.
            for block in stride(from: w, to: 20, by: 2) {
                do { try stores[w].append(all[(block * 20)..<(block * 20 + 20)], source: "w\(w)") } catch {
                    failures.add("\(error)")
                }
            }
        }
        #expect(failures.all.isEmpty)
        #expect(try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .h1) == all)
        #expect(try stores[0].metadata.writeCount(symbol: "TEST", timeframe: .h1) == 20)
    }

    @Test func detectsFilesChangedBehindItsBack() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(100), source: "a")
        let other = try ParquetWriter().encode(syntheticBars(100, seed: 1).parquetTable())
        try Data(other).write(to: URL(fileURLWithPath: dir + "/bars/TEST/1h.parquet"))
        do {
            _ = try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .h1)
            Issue.record("tampered file accepted")
        } catch {
            #expect(error.kind == .checksumMismatch)
        }
        #expect(throws: StorageError.self) { try store.verify(symbol: "TEST", timeframe: .h1) }
    }

    @Test func rangeReadsDecodeOnlyOverlappingRowGroups() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        var options = ParquetBarStore.defaultWriteOptions
        options.rowGroupRows = 100
        let store = try ParquetBarStore(root: dir, writeOptions: options)
        let all = syntheticBars(1000, timeframe: .m1)
        try store.append(all, source: "a")
        let start = all.timestamps[250], end = all.timestamps[420]
        let (series, stats) = try store.readWithStats(symbol: "TEST", timeframe: .m1, start: start, end: end)
        #expect(series == all.slice(from: start, to: end))
        #expect(stats.rowGroupsInFile == 10 && stats.rowGroupsDecoded == 3)
        let none = try store.readWithStats(symbol: "TEST", timeframe: .m1, start: 0, end: 1)
        #expect(none.series.isEmpty && none.stats.rowGroupsDecoded == 0)
        let edge = try store.readWithStats(symbol: "TEST", timeframe: .m1, start: all.timestamps[100], end: all.timestamps[200])
        #expect(edge.series.count == 100 && edge.stats.rowGroupsDecoded == 1)
    }

    @Test func escapesSymbolsAndMonthlyTimeframe() throws {
        #expect(try ParquetBarStore.relativePath(symbol: "BTC/USD", timeframe: .mn1) == "bars/BTC%2FUSD/1mo.parquet")
        #expect(try ParquetBarStore.relativePath(symbol: "EURUSD", timeframe: .m1) == "bars/EURUSD/1m.parquet")
        #expect(throws: StorageError.self) { try ParquetBarStore.relativePath(symbol: "..", timeframe: .h1) }
    }
}

@Suite struct SHA256Tests {
    @Test func matchesStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        for _ in 0..<1000 { h.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
