import Common
import Foundation
import Testing
@testable import MarketData

/// Error messages speak the user's language: file paths, command-line flags and what to do, never internal
/// type, case or parameter names (`overlapConflict error:`, `overlap: .replace`, `NSCocoaErrorDomain`).
@Suite struct ErrorTextTests {
    static let internalNames = ["NSCocoaErrorDomain", "Code=", "overlapConflict", "checksumMismatch", "notFound",
                                "overlap: .replace", ".quarantine", " error: ", "StorageError", "DataError"]

    static func expectUserTerms(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in internalNames {
            #expect(!text.contains(name), "'\(name)' in: \(text)", sourceLocation: sourceLocation)
        }
    }

    @Test func conflictingBarsNameTheReplaceFlag() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(10), source: "a")
        var changed = syntheticBars(10).bars
        changed[4].close += 0.01
        do {
            try store.append(BarSeries(symbol: "TEST", timeframe: .h1, bars: changed), source: "b")
            Issue.record("conflict accepted")
        } catch {
            let text = error.description
            #expect(text.hasPrefix(dir + "/bars/TEST/1h.parquet: 1 incoming bars differ from the stored bars"), "\(text)")
            #expect(text.contains("re-run the import with --replace") && text.contains("nothing written"))
            Self.expectUserTerms(text)
        }
    }

    @Test func invalidBarsNameTheQuarantineFlag() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        var bars = syntheticBars(10).bars
        bars[2].volume = -3
        do {
            try ParquetBarStore(root: dir).append(BarSeries(symbol: "TEST", timeframe: .h1, bars: bars), source: "a")
            Issue.record("invalid bars accepted")
        } catch {
            #expect(error.description.contains("--quarantine") && error.description.contains("negative_volume"))
            Self.expectUserTerms(error.description)
        }
    }

    @Test func damagedAndMissingFilesSayWhatToDo() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        try store.append(syntheticBars(100), source: "a")
        try damage(dir + "/bars/TEST/1h.parquet")
        do {
            _ = try ParquetBarStore(root: dir).read(symbol: "TEST", timeframe: .h1)
            Issue.record("damaged file read")
        } catch {
            #expect(error.description.hasPrefix(dir + "/bars/TEST/1h.parquet: stored file is damaged"), "\(error)")
            #expect(error.description.contains("aitrader data import ... --replace"))
            Self.expectUserTerms(error.description)
        }
        do {
            _ = try store.read(symbol: "NONE", timeframe: .h1)
            Issue.record("missing dataset read")
        } catch {
            #expect(error.description.contains("no stored bars for NONE 1h") && error.description.contains("aitrader data list"))
            Self.expectUserTerms(error.description)
        }
    }

    @Test func unreadableFilesGiveTheSystemReason() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        do {
            _ = try CSVBarReader().read(path: dir + "/nope.csv", symbol: "X", timeframe: .h1)
            Issue.record("missing CSV read")
        } catch {
            #expect(error.description == dir + "/nope.csv: cannot read file: no such file or directory")
            Self.expectUserTerms(error.description)
        }
        do {
            _ = try CSVBarReader().read(path: dir, symbol: "X", timeframe: .h1)
            Issue.record("directory read as CSV")
        } catch {
            #expect(error.description.contains("is a directory"), "\(error)")
        }
        do {
            _ = try ParquetBarStore(root: dir).importParquet(path: dir + "/nope.parquet", symbol: "X", timeframe: .h1)
            Issue.record("missing Parquet imported")
        } catch {
            #expect(error.description.contains("no such file or directory"), "\(error)")
            Self.expectUserTerms(error.description)
        }
    }
}
