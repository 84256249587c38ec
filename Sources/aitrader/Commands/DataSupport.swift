import Common
import Foundation
import MarketData

/// What every `aitrader data ...` command shares: the configuration file, the data root and store, CSV format
/// options, time arguments and bar output.
struct DataContext {
    let configuration: DataConfiguration
    let dataRoot: String

    /// Common options: `--config PATH` (default configs/data.yaml when present), `--data-root DIR`
    /// (else `AITRADER_DATA_ROOT`, else the configuration's `data_root`, else ./data).
    static let optionsHelp = """
          --data-root DIR   where bars are stored (<DIR>/store); default $AITRADER_DATA_ROOT, the config's data_root, ./data
          --config PATH     data configuration (default configs/data.yaml when it exists)
        """

    init(_ arguments: ParsedArguments) throws {
        let explicit = arguments.string("config")
        let path = explicit ?? (FileManager.default.fileExists(atPath: "configs/data.yaml") ? "configs/data.yaml" : nil)
        configuration = try path.map { try DataConfiguration.load(path: $0) } ?? DataConfiguration()
        dataRoot = try Self.dataRoot(arguments, configured: configuration.dataRoot)
    }

    /// The data root every command shares (`data`, `features`, `backtest`): `--data-root`, else
    /// `AITRADER_DATA_ROOT`, else the configuration's `data_root` (configs/data.yaml when present), else ./data.
    /// Bars live in `<root>/store`, features in `<root>/features`.
    static func dataRoot(_ arguments: ParsedArguments, configured: String? = nil) throws -> String {
        if let option = arguments.string("data-root") { return option }
        if let env = ProcessInfo.processInfo.environment["AITRADER_DATA_ROOT"], !env.isEmpty { return env }
        if let configured { return configured }
        if FileManager.default.fileExists(atPath: "configs/data.yaml") {
            return try DataConfiguration.load(path: "configs/data.yaml").dataRoot
        }
        return DataConfiguration().dataRoot
    }

    /// The bar store under a data root.
    static func store(dataRoot: String) throws -> ParquetBarStore { try ParquetBarStore(root: dataRoot + "/store") }

    var storeRoot: String { dataRoot + "/store" }

    func store() throws -> ParquetBarStore { try Self.store(dataRoot: dataRoot) }

    /// `--day-start HH:MM` and `--timezone Z` override the configured resampling calendar; `--fx-days` = 17:00 New York.
    func bins(_ arguments: ParsedArguments) throws -> BinCalendar {
        var bins = configuration.bins
        if arguments.flag("fx-days") { bins = .fxNewYork }
        if let zone = arguments.string("day-zone") { bins.timeZone = try TimeZoneRule(parsing: zone) }
        if let start = arguments.string("day-start") {
            let parts = start.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw UsageError("--day-start expects HH:MM, got '\(start)'")
            }
            bins = BinCalendar(timeZone: bins.timeZone, dayStartHour: parts[0], dayStartMinute: parts[1])
        }
        return bins
    }

    static let csvOptionsHelp = """
          --format auto|plain|mt5   CSV layout (auto detects plain, MetaTrader export, split date/time, no header)
          --columns ROLE=COL,...    explicit columns by name or 0-based index: time, timeofday, open, high, low, close, volume
          --date-format FMT         auto | epoch_s | epoch_ms | %-pattern such as "%d/%m/%Y %H:%M"
          --timezone ZONE           zone of times without an offset: UTC, America/New_York, NY+7 (MT5 servers), +02:00
          --delimiter D             , tab ; |
          --volume auto|tick|real   MetaTrader volume column
        """

    /// CSV options on top of the configured CSV format.
    func csvFormat(_ arguments: ParsedArguments) throws -> CSVFormat {
        var f = configuration.csv.format
        if let preset = arguments.string("format") {
            let zone = f.timeZone
            f = try CSVFormat(preset: preset)
            f.timeZone = zone
        }
        if let columns = arguments.string("columns") { f.columns = try CSVColumnMapping(parsing: columns) }
        if let d = arguments.string("date-format") { f.dateFormat = try DateFormat(parsing: d) }
        if let z = arguments.string("timezone") { f.timeZone = try TimeZoneRule(parsing: z) }
        if let d = arguments.string("delimiter") { f.delimiter = try CSVFormat.delimiter(parsing: d) }
        if let v = arguments.string("volume") {
            guard let choice = CSVFormat.VolumeChoice(rawValue: v) else { throw UsageError("--volume: auto, tick or real") }
            f.volume = choice
        }
        return f
    }

    /// `--NAME` as a time: `2024-01-31`, `2024-01-31T12:00:00Z`, `2024-01-31 12:00`, epoch seconds/ms, or `now`.
    static func time(_ arguments: ParsedArguments, _ name: String) throws -> Int64? {
        guard let text = arguments.string(name) else { return nil }
        if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
        guard let parsed = DateFormat.auto.parse(Array(text.utf8)[...]) else {
            throw UsageError("--\(name): cannot read '\(text)' as a time (2024-01-31, 2024-01-31T12:00:00Z, epoch)")
        }
        return parsed.milliseconds
    }

    static func timeframe(_ arguments: ParsedArguments, _ name: String = "timeframe") throws -> Timeframe? {
        try arguments.string(name).map { text in
            do { return try Timeframe(parsing: text) } catch { throw UsageError("--\(name): \(error)") }
        }
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

    static func write(_ s: BarSeries, to path: String) throws {
        let lower = path.lowercased()
        if lower.hasSuffix(".parquet") {
            try s.writeParquet(to: path)
        } else if lower.hasSuffix(".csv") {
            try Data(csv(s).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } else {
            throw UsageError("--output must end in .csv or .parquet")
        }
    }
}
