import Common
import Foundation
import MarketData

/// `aitrader data import --csv FILE --symbol S --timeframe TF [--format ...]`: CSV into the bar store.
enum DataImportCommand: AITraderCommand {
    static let path = ["data", "import"]
    static let summary = "import a CSV file of bars into the store"
    static let usage = """
        Usage: aitrader data import --csv FILE [--symbol S] [--timeframe TF] [CSV options] [--replace] [--quarantine]
          Reads the file (plain Date,Open,High,Low,Close,Volume; MetaTrader export; mapped columns), validates the
          bars and merges them into <data-root>/store. Symbol and timeframe default from names like EURUSD_H1.csv.
          Bars already stored identically are skipped; a bar that differs is an error unless --replace.
          --quarantine stores the valid rows and sets invalid ones aside instead of refusing the file.
        \(DataContext.csvOptionsHelp)
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        let file = try arguments.require("csv")
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let guessed = CSVSource.parseFileName(stem)
        guard let symbol = arguments.string("symbol") ?? guessed?.0 else {
            throw UsageError("--symbol is required (it cannot be read from the file name '\(stem)')")
        }
        guard let timeframe = try DataContext.timeframe(arguments) ?? guessed?.1 else {
            throw UsageError("--timeframe is required (it cannot be read from the file name '\(stem)')")
        }
        let format = try context.csvFormat(arguments)
        let replace = arguments.flag("replace")
        let quarantine = arguments.flag("quarantine")
        try arguments.finish()

        let clock = ContinuousClock()
        let began = clock.now
        let series = try CSVBarReader(format: format).read(path: file, symbol: symbol, timeframe: timeframe)
        let elapsed = clock.now - began
        let readSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let result = try context.store().append(series, source: "csv:\(file)", overlap: replace ? .replace : .rejectConflicts,
                                                badRows: quarantine ? .quarantine : .reject)
        Log.info("imported", ["symbol": symbol, "timeframe": timeframe.description, "rows": "\(series.count)",
                              "added": "\(result.rowsAdded)", "read_s": String(format: "%.3f", readSeconds),
                              "rows_per_s": String(format: "%.0f", Double(series.count) / max(readSeconds, 1e-9))])
        var line = "\(symbol) \(timeframe): read \(series.count) bars (\(DataContext.range(series))); added \(result.rowsAdded)"
        if result.rowsSkipped > 0 { line += ", skipped \(result.rowsSkipped) already stored" }
        if result.rowsReplaced > 0 { line += ", replaced \(result.rowsReplaced)" }
        if result.rowsQuarantined > 0 { line += ", quarantined \(result.rowsQuarantined) (\(result.quarantinePath ?? ""))" }
        print(line + "; \(result.totalRows) stored in \(result.path)")
    }
}

/// `aitrader data fetch --source alpaca|mt5|csv --symbol S --timeframe TF --start T [--end T]`.
enum DataFetchCommand: AITraderCommand {
    static let path = ["data", "fetch"]
    static let summary = "fetch bars from Alpaca, MetaTrader 5 or CSV into the store"
    static let usage = """
        Usage: aitrader data fetch --source alpaca|mt5|csv --symbol S --timeframe TF --start T [--end T]
                                   [--csv FILE | --directory DIR] [CSV options]
          Fetches [start, end) (end defaults to now) and merges the finished bars into the store.
          alpaca: keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY; feed/adjustment from configs/data.yaml.
          mt5: the bridge (integrations/mt5/mt5_bridge.py) at sources.mt5.host:port, token AITRADER_MT5_TOKEN.
          Times: 2024-01-31, 2024-01-31T12:00:00Z, epoch seconds or ms, now.
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        let sourceName = try arguments.require("source")
        let symbol = try arguments.require("symbol")
        guard let timeframe = try DataContext.timeframe(arguments) else { throw UsageError("missing required option --timeframe") }
        guard let start = try DataContext.time(arguments, "start") else { throw UsageError("missing required option --start") }
        let end = try DataContext.time(arguments, "end") ?? Int64(Date().timeIntervalSince1970 * 1000)
        let source: any DataSource
        if sourceName == "csv" {
            let format = try context.csvFormat(arguments)
            if let file = arguments.string("csv") {
                source = CSVSource(file: file, symbol: symbol, timeframe: timeframe, format: format)
            } else {
                source = CSVSource(directory: arguments.string("directory") ?? context.configuration.csv.directory,
                                   format: format, bins: context.configuration.bins)
            }
        } else {
            source = try context.configuration.source(named: sourceName)
        }
        try arguments.finish()
        let pipeline = DataPipeline(source: source, storage: try context.store(), bins: context.configuration.bins)
        print(try await pipeline.fetchAndStore(symbol: symbol, timeframe: timeframe, start: start, end: end))
    }
}

/// `aitrader data update [--symbol S --timeframe TF --source X]`: incremental update from the last stored bar.
enum DataUpdateCommand: AITraderCommand {
    static let path = ["data", "update"]
    static let summary = "bring stored datasets up to date from their sources"
    static let usage = """
        Usage: aitrader data update [--symbol S --timeframe TF [--source csv|alpaca|mt5] [--start T]]
          For each dataset listed under `datasets:` in configs/data.yaml (or the one given), fetches from just
          after the last stored bar up to now and stores the finished bars: never a duplicate. A dataset with
          nothing stored starts at its `start` (or --start; CSV datasets default to the whole file).
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        var datasets = context.configuration.datasets
        if let symbol = arguments.string("symbol") {
            guard let tf = try DataContext.timeframe(arguments) else { throw UsageError("--symbol needs --timeframe") }
            let configured = datasets.first { $0.symbol == symbol && $0.timeframe == tf }
            datasets = [DataConfiguration.Dataset(symbol: symbol, timeframe: tf,
                                                  source: arguments.string("source") ?? configured?.source ?? "csv",
                                                  calendar: configured?.calendar,
                                                  start: try DataContext.time(arguments, "start") ?? configured?.start)]
        }
        try arguments.finish()
        guard !datasets.isEmpty else { throw UsageError("no datasets: list them under `datasets:` in configs/data.yaml or pass --symbol/--timeframe") }
        let store = try context.store()
        var failures = 0
        for d in datasets {
            do {
                let pipeline = DataPipeline(source: try context.configuration.source(named: d.source), storage: store,
                                            bins: context.configuration.bins)
                // A CSV dataset with nothing stored starts at the file's beginning; network sources need a start.
                let initial = d.start ?? (d.source == "csv" ? UTCTime.milliseconds(year: 1900, month: 1, day: 1) : nil)
                print(try await pipeline.updateLatest(symbol: d.symbol, timeframe: d.timeframe, initialStart: initial))
            } catch {
                failures += 1
                writeError("\(d.symbol) \(d.timeframe) (\(d.source)): \(error)\n")
            }
        }
        if failures > 0 { throw UsageError("\(failures) of \(datasets.count) datasets failed to update") }
    }
}
