import Common
import Foundation
import MarketData
import Venues

/// What every `aitrader data ...` command shares: the configuration file, the data root and store, CSV format
/// options, time arguments and bar output.
struct DataContext {
    let configuration: DataConfiguration
    let dataRoot: String

    /// `--data-root DIR` and `--config PATH`, shared by every command that reads the data root.
    static let options: [Option] = [
        dataRootOption,
        Option("config", .text, "PATH", "data configuration (default configs/data.yaml when it exists)"),
    ]
    static let dataRootOption = Option("data-root", .text, "DIR",
                                       "where bars are stored (<DIR>/store) and features (<DIR>/features); default "
                                           + "$AITRADER_DATA_ROOT, configs/data.yaml's data_root, else ./data")

    init(_ values: OptionValues) throws {
        let explicit = values.string("config")
        let path = explicit ?? (FileManager.default.fileExists(atPath: "configs/data.yaml") ? "configs/data.yaml" : nil)
        configuration = try path.map { try DataConfiguration.load(path: $0) } ?? DataConfiguration()
        dataRoot = try Self.dataRoot(values, configured: configuration.dataRoot)
    }

    /// The data root every command shares (`data`, `features`, `backtest`): `--data-root`, else
    /// `AITRADER_DATA_ROOT`, else the configuration's `data_root` (configs/data.yaml when present), else ./data.
    /// Bars live in `<root>/store`, features in `<root>/features`.
    static func dataRoot(_ values: OptionValues, configured: String? = nil) throws -> String {
        if let option = values.string("data-root") { return option }
        if let env = ProcessInfo.processInfo.environment["AITRADER_DATA_ROOT"], !env.isEmpty { return env }
        if let configured { return configured }
        if FileManager.default.fileExists(atPath: "configs/data.yaml") {
            return try DataConfiguration.load(path: "configs/data.yaml").dataRoot
        }
        return DataConfiguration().dataRoot
    }

    /// The bar store under a data root, opened for writing (created when missing): for commands that store bars.
    static func store(dataRoot: String) throws -> ParquetBarStore { try ParquetBarStore(root: dataRoot + "/store") }

    /// The bar store opened read-only: for commands that only read bars (list, show, validate, features,
    /// backtest). Creates nothing; a data root without a store is an error that says so.
    static func readOnlyStore(dataRoot: String) throws -> ParquetBarStore {
        try ParquetBarStore(readOnly: dataRoot + "/store")
    }

    var storeRoot: String { dataRoot + "/store" }

    func store() throws -> ParquetBarStore { try Self.store(dataRoot: dataRoot) }

    func readOnlyStore() throws -> ParquetBarStore { try Self.readOnlyStore(dataRoot: dataRoot) }

    /// configs/data.yaml when it exists (its resampling calendar), else the defaults: for commands that read bars
    /// but have a `--config` of their own.
    static func defaultConfiguration() throws -> DataConfiguration {
        FileManager.default.fileExists(atPath: "configs/data.yaml")
            ? try DataConfiguration.load(path: "configs/data.yaml") : DataConfiguration()
    }

    /// How resampled days are cut: `--fx-days`, `--day-start HH:MM`, `--day-zone ZONE`.
    static let binOptions: [Option] = [
        Option(flag: "fx-days", "days start at 17:00 New York (the FX convention)"),
        Option("day-start", .text, "HH:MM", "the time of day a resampled day starts (with --day-zone)"),
        Option("day-zone", .text, "ZONE", "the zone of --day-start: UTC, America/New_York, NY+7, +02:00"),
    ]

    /// `--day-start HH:MM` and `--day-zone Z` override the configured resampling calendar; `--fx-days` = 17:00 New York.
    func bins(_ values: OptionValues) throws -> BinCalendar {
        var bins = configuration.bins
        if values.flag("fx-days") { bins = .fxNewYork }
        if let zone = values.string("day-zone") {
            do { bins.timeZone = try TimeZoneRule(parsing: zone) } catch { throw UsageError("--day-zone: \(error)") }
        }
        if let start = values.string("day-start") {
            let parts = start.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw UsageError("--day-start expects HH:MM, got '\(start)'")
            }
            bins = BinCalendar(timeZone: bins.timeZone, dayStartHour: parts[0], dayStartMinute: parts[1])
        }
        return bins
    }

    /// CSV layout options, on top of the configured CSV format.
    static let csvOptions: [Option] = [
        Option("format", .choice(["auto", "plain", "mt5"]), "",
               "CSV layout (auto detects plain, MetaTrader export, split date/time, no header)"),
        Option("columns", .text, "ROLE=COL,...",
               "explicit columns by name or 0-based index: time, timeofday, open, high, low, close, volume"),
        Option("date-format", .text, "FMT", "auto | epoch_s | epoch_ms | %-pattern such as \"%d/%m/%Y %H:%M\""),
        Option("timezone", .text, "ZONE", "zone of times without an offset: UTC, America/New_York, NY+7 (MT5), +02:00"),
        Option("delimiter", .text, "D", "field delimiter: , tab ; |"),
        Option("volume", .choice(["auto", "tick", "real"]), "", "which MetaTrader volume column to use"),
    ]

    /// The CSV format: the configured one with the CSV options applied (a malformed value is a usage error).
    func csvFormat(_ values: OptionValues) throws -> CSVFormat {
        var f = configuration.csv.format
        do {
            if let preset = values.string("format") {
                let zone = f.timeZone
                f = try CSVFormat(preset: preset)
                f.timeZone = zone
            }
            if let columns = values.string("columns") { f.columns = try CSVColumnMapping(parsing: columns) }
            if let d = values.string("date-format") { f.dateFormat = try DateFormat(parsing: d) }
            if let z = values.string("timezone") { f.timeZone = try TimeZoneRule(parsing: z) }
            if let d = values.string("delimiter") { f.delimiter = try CSVFormat.delimiter(parsing: d) }
        } catch {
            throw UsageError(ExitStatus.message(error))
        }
        if let v = values.string("volume"), let choice = CSVFormat.VolumeChoice(rawValue: v) { f.volume = choice }
        return f
    }

    static func range(_ s: BarSeries) -> String {
        s.isEmpty ? "empty" : "\(UTCTime.iso8601(s.timestamps[0])) .. \(UTCTime.iso8601(s.timestamps[s.count - 1]))"
    }
}

/// Writing bars: CSV (pandas-readable: `timestamp,open,high,low,close,volume`, shortest round-trip doubles) or
/// Parquet (the store's schema: TIMESTAMP(MILLIS, UTC) + DOUBLE columns).
enum BarOutput {
    static func csv(_ s: BarSeries, rows: Range<Int>? = nil) -> String {
        var out = "timestamp,open,high,low,close,volume\n"
        for i in rows ?? 0..<s.count {
            out += UTCTime.plain(s.timestamps[i]) + ",\(s.open[i]),\(s.high[i]),\(s.low[i]),\(s.close[i]),\(s.volume[i])\n"
        }
        return out
    }

    /// Refuses an output path of another kind before any work is done.
    static func check(_ path: String) throws {
        let lower = path.lowercased()
        guard lower.hasSuffix(".parquet") || lower.hasSuffix(".csv") else {
            throw UsageError("--output must end in .csv or .parquet, got '\(path)'")
        }
    }

    static func write(_ s: BarSeries, to path: String) throws {
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") {
            try s.writeParquet(to: path)
        } else if lower.hasSuffix(".csv") {
            try Data(csv(s).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } else {
            throw UsageError("--output must end in .csv or .parquet, got '\(path)'")
        }
    }
}
