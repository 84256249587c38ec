import Common
import Foundation
import Testing
@testable import MarketData

/// pyarrow-written files under Fixtures/parquet (made by tools/reference/parquet_fixtures.py).
enum ParquetFixtures {
    static func path(_ name: String) -> String {
        if let url = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/parquet/\(name)"),
           FileManager.default.fileExists(atPath: url.path) {
            return url.path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/parquet/\(name)").path
    }

    /// The first 1000 bars of the EURUSD sample, which the eurusd_* fixtures hold.
    static func eurusd1000() throws -> BarSeries {
        try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)[0..<1000]
    }
}

@Suite struct PyarrowFixtureTests {
    @Test(arguments: ["eurusd_default.parquet", "eurusd_named_index_zstd.parquet", "eurusd_uncompressed_plain.parquet",
                      "eurusd_v2.parquet", "eurusd_multi_rowgroup.parquet"])
    func readsPandasFilesIntoBars(file: String) throws {
        let reader = try ParquetReader(path: ParquetFixtures.path(file))
        let table = try reader.readAll()
        let bars = try BarSeries(parquet: table, symbol: "EURUSD", timeframe: .h1)
        #expect(bars == (try ParquetFixtures.eurusd1000()), "\(file)")
        #expect(table["Volume"]?.int64s != nil)              // pandas int64 volume stays INT64
        #expect(table["Open"]?.nullable == true)              // pyarrow writes OPTIONAL columns
    }

    @Test func seesWhatPyarrowWroteByDefault() throws {
        let reader = try ParquetReader(path: ParquetFixtures.path("eurusd_default.parquet"))
        #expect(reader.fields.map(\.name) == ["Open", "High", "Low", "Close", "Volume", "__index_level_0__"])
        #expect(reader.field(named: "__index_level_0__")?.logicalType == .timestamp(unit: .microseconds, utc: false))
        #expect(reader.metadata.rowGroups[0].columns[0].metaData?.codec == .snappy)
        #expect(reader.metadata.rowGroups[0].columns[0].metaData?.dictionaryPageOffset != nil)
        #expect(reader.keyValueMetadata["pandas"]?.contains("__index_level_0__") == true)
        #expect(reader.metadata.createdBy?.hasPrefix("parquet-cpp-arrow") == true)
        let multi = try ParquetReader(path: ParquetFixtures.path("eurusd_multi_rowgroup.parquet"))
        #expect(multi.rowGroupCount == 4)
        #expect(multi.field(named: "timestamp")?.logicalType == .timestamp(unit: .nanoseconds, utc: true))
        let t = try ParquetFixtures.eurusd1000().timestamps
        let ns = { (ms: Int64) in ms * 1_000_000 }
        #expect(multi.rowGroups(overlapping: ns(t[300])...ns(t[400]), column: "timestamp") == [1])
        #expect(multi.statistics(rowGroup: 2, column: "timestamp")?.min == .int(ns(t[500])))
    }

    @Test func readsEveryTypeWithNullsAndNaN() throws {
        let table = try ParquetReader(path: ParquetFixtures.path("types_nulls.parquet")).readAll()
        let json = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: ParquetFixtures.path("types_nulls.json")))) as! [String: [Any]]
        func expected(_ name: String) -> [Any] { json[name]! }
        func isNull(_ v: Any) -> Bool { v is NSNull }
        for name in ["i64", "f64", "i32", "f32", "flag", "name", "ts_ms_utc", "ts_ns"] {
            let column = try #require(table[name])
            let want = expected(name)
            #expect(column.count == want.count)
            for (row, w) in want.enumerated() {
                #expect(column.isNull(row) == isNull(w), "\(name)[\(row)] null")
                if isNull(w) { continue }
                switch column.values {
                case .int64(let v): #expect(v[row] == (w as! NSNumber).int64Value, "\(name)[\(row)]")
                case .int32(let v): #expect(Int64(v[row]) == (w as! NSNumber).int64Value, "\(name)[\(row)]")
                case .double(let v):
                    if let s = w as? String { #expect(s == "NaN" && v[row].isNaN) } else { #expect(v[row] == (w as! NSNumber).doubleValue) }
                case .float(let v):
                    if let s = w as? String { #expect(s == "NaN" && v[row].isNaN) } else { #expect(Double(v[row]) == (w as! NSNumber).doubleValue) }
                case .boolean(let v): #expect(v[row] == (w as! NSNumber).boolValue, "\(name)[\(row)]")
                case .string(let v): #expect(v[row] == (w as! String), "\(name)[\(row)]")
                case .bytes: Issue.record("\(name) read as raw bytes")
                }
            }
        }
        #expect(table["ts_ms_utc"]?.logicalType == .timestamp(unit: .milliseconds, utc: true))
        #expect(table["ts_ns"]?.logicalType == .timestamp(unit: .nanoseconds, utc: false))
    }

    @Test func storeImportsPandasFile() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let store = try ParquetBarStore(root: dir)
        let r = try store.importParquet(path: ParquetFixtures.path("eurusd_default.parquet"), symbol: "EURUSD", timeframe: .h1)
        #expect(r.rowsAdded == 1000)
        #expect(try store.read(symbol: "EURUSD", timeframe: .h1) == (try ParquetFixtures.eurusd1000()))
    }
}

/// Live checks against pyarrow itself, with the reference python (`ReferencePython`): skipped without one that has
/// pyarrow and pandas, a failure instead where AITRADER_REQUIRE_REFERENCE=1 (CI).
enum LivePyarrow {
    static let modules = ["pyarrow", "pandas"]
    static var shouldRun: Bool { ReferencePython.shouldRun(importing: modules) }
    static var skipReason: Comment { Comment(rawValue: ReferencePython.unavailableReason(importing: modules)) }
    /// The reference python, or a thrown error naming what is missing.
    static func python() throws -> String { try ReferencePython.requireFind(importing: modules) }
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/reference/parquet_interop.py").path
    }

    struct Failed: Error, CustomStringConvertible { var description: String }

    /// Runs a command, returns stdout; throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Data {
        let r = try Subprocess.run(executable, arguments)
        guard r.status == 0 else {
            throw Failed(description: "\(executable) \(arguments.joined(separator: " ")) failed: " + r.errorOutput)
        }
        return r.stdout
    }

    /// The files as pyarrow reads them (see parquet_interop.py `read`), in one python run.
    static func read(_ paths: [String]) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: run(python(), [script, "read"] + paths)) as! [[String: Any]]
    }
}

@Suite(.enabled(if: LivePyarrow.shouldRun, LivePyarrow.skipReason))
struct LivePyarrowTests {
    @Test func pyarrowReadsWhatSwiftWrites() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let table = sampleTable(rows: 1200)
        var cases: [(ParquetCodec, Int, String)] = []
        for codec in [ParquetCodec.zstd, .snappy, .uncompressed] {
            for version in [1, 2] {
                let path = dir + "/t-\(codec)-\(version).parquet"
                var options = ParquetWriteOptions(codec: codec, rowGroupRows: 500, dataPageVersion: version)
                options.dataPageBytes = 2048
                try ParquetWriter(options: options).write(table, to: path)
                cases.append((codec, version, path))
            }
        }
        let described = try LivePyarrow.read(cases.map(\.2))
        #expect(described.count == cases.count)
        for ((codec, version, _), seen) in zip(cases, described) {
            do {
                let schema = seen["schema"] as! [String: String]
                #expect(schema == ["timestamp": "timestamp[ms, tz=UTC]", "close": "double", "noise": "double",
                                   "volume": "int64", "bucket": "int32", "f": "float", "up": "bool", "note": "string",
                                   "t_ns": "timestamp[ns]"], "\(codec) v\(version)")
                #expect(seen["num_row_groups"] as? Int == 3)
                #expect((seen["metadata"] as! [String: String])["origin"] == "test")
                let columns = seen["columns"] as! [String: [Any]]
                for column in table.columns {
                    let values = columns[column.name]!
                    #expect(values.count == column.count)
                    for row in 0..<column.count {
                        let v = values[row]
                        if column.isNull(row) { #expect(v is NSNull, "\(column.name)[\(row)]"); continue }
                        let ok: Bool
                        switch column.values {
                        case .int64(let x): ok = (v as? NSNumber)?.int64Value == x[row]
                        case .int32(let x): ok = (v as? NSNumber)?.int32Value == x[row]
                        case .double(let x):
                            let d = (v as? String).flatMap(Double.init)
                            ok = x[row].isNaN ? d?.isNaN == true : d == x[row]
                        case .float(let x): ok = (v as? String).flatMap(Double.init).map(Float.init) == x[row]
                        case .boolean(let x): ok = (v as? NSNumber)?.boolValue == x[row]
                        case .string(let x): ok = (v as? String) == x[row]
                        case .bytes: ok = false
                        }
                        if !ok {
                            Issue.record("\(codec) v\(version) \(column.name)[\(row)]: pyarrow \(v)")
                            break
                        }
                    }
                }
            }
        }
    }

    @Test func swiftReadsWhatPyarrowWritesNow() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let path = dir + "/eurusd.parquet"
        try LivePyarrow.run(LivePyarrow.python(), [LivePyarrow.script, "write", Samples.eurusd, path])
        let bars = try BarSeries.readParquet(path: path, symbol: "EURUSD", timeframe: .h1)
        #expect(bars == (try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)))
    }

    @Test func pyarrowReadsTheStoreAndBarExport() throws {
        let dir = Scratch.directory()
        defer { Scratch.remove(dir) }
        let eur = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1)
        let store = try ParquetBarStore(root: dir)
        try store.append(eur, source: "csv")
        try eur.writeParquet(to: dir + "/x.parquet")
        for seen in try LivePyarrow.read([dir + "/bars/EURUSD/1h.parquet", dir + "/x.parquet"]) {
            #expect(seen["schema"] as! [String: String] == ["timestamp": "timestamp[ms, tz=UTC]", "open": "double",
                                                             "high": "double", "low": "double", "close": "double",
                                                             "volume": "double"])
            let columns = seen["columns"] as! [String: [Any]]
            #expect(columns["timestamp"]!.map { ($0 as! NSNumber).int64Value } == eur.timestamps.array)
            #expect(columns["close"]!.map { Double($0 as! String) } == eur.close.array)
            #expect(columns["volume"]!.map { Double($0 as! String) } == eur.volume.array)
        }
    }
}
