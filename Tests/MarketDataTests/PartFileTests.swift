import Common
import Foundation
import Testing
@testable import MarketData
#if canImport(Glibc)
import Glibc
#endif

/// Identity of a file on disk (inode, size, modification time): unchanged means not rewritten.
func fileStamp(_ path: String) throws -> String {
    let a = try FileManager.default.attributesOfItem(atPath: path)
    return "\(a[.systemFileNumber] ?? 0):\(a[.size] ?? 0):\(a[.modificationDate] ?? 0)"
}

/// Appends as part files: the base untouched, reads and checks across all files, the overlap rules of a one-file
/// dataset kept exactly, compaction, and old catalogues upgraded in place.
@Suite struct PartFileTests {
    @Test func appendsAfterTheLastBarAddPartFilesAndLeaveTheBaseAlone() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(300, timeframe: .m1)
        try store.append(all[0..<200], source: "a")
        let base = dir + "/bars/TEST/1m.parquet"
        let stamp = try fileStamp(base)
        for k in 0..<10 {
            let r = try store.append(all[(200 + 10 * k)..<(210 + 10 * k)], source: "robot")
            #expect(r.rowsAdded == 10 && r.totalRows == 210 + 10 * k && !r.rewroteDataset)
            #expect(r.path == dir + "/bars/TEST/1m.part-\(ParquetBarStore.sequenceText(k + 1)).parquet")
        }
        #expect(try fileStamp(base) == stamp, "the base file was rewritten")
        let record = try #require(try store.dataset(symbol: "TEST", timeframe: .m1))
        #expect(record.rows == 300 && record.parts.count == 10 && record.baseRows == 200)
        #expect(record.firstTimestamp == all.timestamps[0] && record.lastTimestamp == all.timestamps[299])
        #expect(record.parts.map(\.file.rows) == Array(repeating: 10, count: 10))
        for part in record.parts {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/" + part.file.path)))
            #expect(part.file.checksum == SHA256.hex(bytes))
        }
        #expect(try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .m1) == all)
        let start = all.timestamps[195], end = all.timestamps[237]
        #expect(try store.read(symbol: "TEST", timeframe: .m1, start: start, end: end) == all.slice(from: start, to: end))
        #expect(try store.read(symbol: "TEST", timeframe: .m1, start: all.timestamps[250]) == all[250..<300])
        try store.verify(symbol: "TEST", timeframe: .m1)
        #expect(try store.metadata.writeCount(symbol: "TEST", timeframe: .m1) == 11)
        try expectConsistent(dir)
        // A damaged part fails reads and verify, naming that file.
        try damage(dir + "/" + record.parts[4].file.path)
        do {
            try ParquetBarStore(root: dir).verify(symbol: "TEST", timeframe: .m1)
            Issue.record("damaged part verified")
        } catch {
            #expect(error.kind == .checksumMismatch && error.path == dir + "/" + record.parts[4].file.path)
        }
        #expect(throws: StorageError.self) { try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .m1) }
    }

    @Test func overlapRulesAreTheSameAsForOneFile() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(400)
        try store.append(all[0..<100], source: "a")
        try store.append(all[100..<150], source: "b")
        // Identical overlap with the part (and the base's last bar), plus new bars: one part replaces the old one.
        let r = try store.append(all[99..<170], source: "c")
        #expect(r.rowsAdded == 20 && r.rowsSkipped == 51 && !r.rewroteDataset)
        var record = try #require(try store.dataset(symbol: "TEST", timeframe: .h1))
        #expect(record.parts.count == 1 && record.parts[0].file.rows == 70 && record.parts[0].sequence == 2)
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all[0..<170])
        // Nothing new: no file written.
        let again = try store.append(all[120..<170], source: "d")
        #expect(again.rowsAdded == 0 && again.rowsSkipped == 50 && again.checksum == r.checksum)
        // A conflict in a part is refused, and nothing changes; with .replace it replaces the bar in a new part.
        var changed = all[130..<131].bars
        changed[0].close += 0.01
        let conflict = BarSeries(symbol: "TEST", timeframe: .h1, bars: changed)
        #expect(throws: StorageError.self) { try store.append(conflict, source: "e") }
        #expect(try store.dataset(symbol: "TEST", timeframe: .h1) == record)
        let replaced = try store.append(conflict, source: "e", overlap: .replace)
        #expect(replaced.rowsReplaced == 1 && !replaced.rewroteDataset)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).close[130] == changed[0].close)
        // A gap inside the parts' range is filled without touching the base.
        try store.append(all[170..<180], source: "f")
        try store.append(all[185..<190], source: "g")
        let fill = try store.append(all[180..<185], source: "h")
        #expect(fill.rowsAdded == 5 && !fill.rewroteDataset)
        // A conflict in the base is refused too; with .replace the dataset is rewritten into a new base.
        var old = all[10..<11].bars
        old[0].high += 1
        let inBase = BarSeries(symbol: "TEST", timeframe: .h1, bars: old)
        do {
            try store.append(inBase, source: "i")
            Issue.record("conflict in the base accepted")
        } catch {
            #expect(error.kind == .overlapConflict && error.description.contains("--replace"))
        }
        let rewrite = try store.append(inBase, source: "i", overlap: .replace)
        #expect(rewrite.rewroteDataset && rewrite.rowsReplaced == 1 && rewrite.totalRows == 190)
        record = try #require(try store.dataset(symbol: "TEST", timeframe: .h1))
        #expect(record.parts.isEmpty && record.path.hasPrefix("bars/TEST/1h.base-") && record.rows == 190)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).high[10] == old[0].high)
        // A back-fill before the first bar rewrites too; the bars come out in order.
        let early = syntheticBars(5, from: all.timestamps[0] - 5 * Timeframe.h1.milliseconds)
        #expect(try store.append(early, source: "j").rewroteDataset)
        #expect(try store.read(symbol: "TEST", timeframe: .h1).count == 195)
        try expectConsistent(dir)
        #expect(try store.repair().isClean)
    }

    @Test func compactionMergesPartsIntoANewBase() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir, maxParts: 4)
        let all = syntheticBars(200, timeframe: .m5)
        try store.append(all[0..<100], source: "a")
        var results: [ParquetBarStore.WriteResult] = []
        for k in 0..<5 { results.append(try store.append(all[(100 + 10 * k)..<(110 + 10 * k)], source: "b")) }
        #expect(results[0..<4].allSatisfy { $0.compaction == nil })
        let compaction = try #require(results[4].compaction)
        #expect(compaction.partsMerged == 5 && compaction.rows == 150)
        #expect(compaction.removedFiles.count == 6 && compaction.removedFiles.contains(dir + "/bars/TEST/5m.parquet"))
        let record = try #require(try store.dataset(symbol: "TEST", timeframe: .m5))
        #expect(record.parts.isEmpty && record.rows == 150 && record.path == "bars/TEST/5m.base-00000006.parquet")
        #expect(filesUnder(dir + "/bars/TEST") == ["5m.base-00000006.parquet"])
        #expect(try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .m5) == all[0..<150])
        // Appends go on after it; `compact` merges on demand, and leaves a one-file dataset alone.
        try store.append(all[150..<200], source: "c")
        let manual = try store.compact(symbol: "TEST", timeframe: .m5)
        #expect(manual.partsMerged == 1 && manual.rows == 200 && manual.description.contains("merged"))
        #expect(try store.compact(symbol: "TEST", timeframe: .m5).partsMerged == 0)
        #expect(try store.compactAll().map(\.partsMerged) == [0])
        #expect(throws: StorageError.self) { try store.compact(symbol: "NONE", timeframe: .m5) }
        #expect(try store.read(symbol: "TEST", timeframe: .m5) == all)
        #expect(try store.metadata.writeCount(symbol: "TEST", timeframe: .m5) == 7, "compactions log no write")
        try expectConsistent(dir)
    }

    @Test func contentKeyFollowsTheBars() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let all = syntheticBars(100)
        let first = try store.append(all[0..<50], source: "a")
        let one = try #require(try store.dataset(symbol: "TEST", timeframe: .h1))
        #expect(one.contentKey == one.checksum && first.checksum == one.checksum)
        try store.append(all[50..<60], source: "b")
        let two = try #require(try store.dataset(symbol: "TEST", timeframe: .h1))
        #expect(two.contentKey != one.contentKey && two.checksum == one.checksum)
        #expect(try store.bars(symbol: "TEST", timeframe: .h1).contentKey == two.contentKey)
        #expect(try store.bars(symbol: "TEST", timeframe: .d1).series.count == 3)   // resampled across base + part
    }

    @Test func oldCataloguesAreReadAndUpgradedInPlace() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let bars = syntheticBars(100)
        // A version 3 store, as the previous release wrote it: one file per dataset.
        do {
            let v3 = try MetadataStore(path: dir + "/metadata.sqlite", migrations: Array(MetadataStore.migrations.prefix(3)))
            let bytes = try ParquetWriter(options: ParquetBarStore.defaultWriteOptions).encode(bars.parquetTable())
            try AtomicFile.write(bytes, to: dir + "/bars/TEST/1h.parquet")
            try v3.database.run("""
                INSERT INTO datasets (symbol, timeframe, source, first_ts, last_ts, rows, checksum, path, updated_at)
                VALUES ('TEST', '1h', 'csv', ?, ?, 100, ?, 'bars/TEST/1h.parquet', 1)
                """, [.integer(bars.timestamps[0]), .integer(bars.timestamps[99]), .text(SHA256.hex(bytes))])
        }
        let readOnly = try ParquetBarStore(readOnly: dir)
        #expect(try readOnly.read(symbol: "TEST", timeframe: .h1) == bars)
        #expect(try readOnly.metadata.schemaVersion() == 3)
        let store = try ParquetBarStore(root: dir)
        #expect(try store.metadata.schemaVersion() == MetadataStore.migrations.last!.version)
        let record = try #require(try store.dataset(symbol: "TEST", timeframe: .h1))
        #expect(record.baseRows == 100 && record.baseLastTimestamp == bars.timestamps[99] && record.parts.isEmpty)
        let more = syntheticBars(110)
        #expect(try store.append(more[100..<110], source: "robot").rewroteDataset == false)
        #expect(try ParquetBarStore(readOnly: dir).read(symbol: "TEST", timeframe: .h1) == more)
        try expectConsistent(dir)
    }

    @Test func orphansOfCrashedWritesGoAndMissingFilesAreReported() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let all = syntheticBars(100)
        do {
            let store = try ParquetBarStore(root: dir)
            try store.append(all[0..<50], source: "a")
            for k in 0..<3 { try store.append(all[(50 + 10 * k)..<(60 + 10 * k)], source: "b") }
        }
        // What a kill between a file's rename and its commit leaves: files no catalogue row names.
        let orphans = ["1h.part-00000009.parquet", "1h.base-00000010.parquet", ".1h.part-00000011.parquet.tmp-1-2"]
        for name in orphans { try syntheticBars(5, seed: 3).writeParquet(to: dir + "/bars/TEST/" + name) }
        let store = try ParquetBarStore(root: dir)   // the writable open removes them
        #expect(filesUnder(dir + "/bars/TEST") == ["1h.parquet", "1h.part-00000001.parquet", "1h.part-00000002.parquet",
                                                   "1h.part-00000003.parquet"])
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all[0..<80])
        try syntheticBars(5, seed: 3).writeParquet(to: dir + "/bars/TEST/1h.part-00000012.parquet")
        let swept = try store.repair()
        #expect(swept.entries.map(\.action) == [.removedOrphan, .ok], "\(swept)")
        // A missing part is an error repair reports (its bars are gone); a damaged one is set aside.
        try FileManager.default.removeItem(atPath: dir + "/bars/TEST/1h.part-00000002.parquet")
        try damage(dir + "/bars/TEST/1h.part-00000003.parquet")
        #expect(throws: StorageError.self) { try store.read(symbol: "TEST", timeframe: .h1) }
        let report = try store.repair()
        #expect(report.description.contains("dropped: TEST 1h") && report.description.contains("are gone"), "\(report)")
        #expect(report.fixes.map(\.action) == [.dropped, .setAside], "\(report)")
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all[0..<60])
        #expect(try store.dataset(symbol: "TEST", timeframe: .h1)?.rows == 60)
        #expect(filesUnder(dir + "/damaged").contains { $0.hasPrefix("TEST/1h.part-00000003-damaged-") })
        try expectConsistent(dir)
        #expect(try store.repair().isClean)
        // A hand-placed <tf>.parquet beside a dataset whose base has another name is kept aside, not adopted.
        try store.compact(symbol: "TEST", timeframe: .h1)
        try syntheticBars(5, seed: 4).writeParquet(to: dir + "/bars/TEST/1h.parquet")
        let loose = try store.repair()
        #expect(loose.fixes.map(\.action) == [.setAside], "\(loose)")
        #expect(try store.read(symbol: "TEST", timeframe: .h1) == all[0..<60])
        try expectConsistent(dir)
    }
}
