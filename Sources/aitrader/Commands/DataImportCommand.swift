import Common
import Foundation
import MarketData
import Venues

/// `aitrader data import --csv FILE --symbol S --timeframe TF [--format ...]`: CSV into the bar store.
enum DataImportCommand: AITraderCommand {
    static let path = ["data", "import"]
    static let summary = "import a CSV file of bars into the store"
    static let options: [Option] = [
        Option("csv", .text, "FILE", "the CSV file of bars", required: true),
        Option("symbol", .text, "SYMBOL", "the symbol (default: from a file name like EURUSD_H1.csv)"),
        Option("timeframe", .timeframe, "", "the bars' timeframe (default: from the file name, else from the bar spacing)"),
        Option(flag: "replace", "replace stored bars that differ (default: such a bar is an error)"),
        Option(flag: "quarantine", "store the valid rows and set invalid ones aside instead of refusing the file"),
    ] + DataContext.csvOptions + DataContext.options
    static let discussion = """
        Reads the file (plain Date,Open,High,Low,Close,Volume; MetaTrader export; mapped columns), validates the
        bars and merges them into <data-root>/store. Bars already stored identically are skipped.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let file = values.string("csv") ?? ""
        let stem = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let guessed = CSVSource.parseFileName(stem)
        guard let symbol = values.string("symbol") ?? guessed?.0 else {
            throw UsageError("--symbol is required (it cannot be read from the file name '\(stem)')")
        }
        let stated = values.timeframe("timeframe") ?? guessed?.1
        let format = try context.csvFormat(values)
        let replace = values.flag("replace")
        let quarantine = values.flag("quarantine")

        let clock = ContinuousClock()
        let began = clock.now
        // Progress over the three stages (read and validate, check the timeframe, store): shown for a long import.
        var progress = ProgressReporter("import \(symbol) \((file as NSString).lastPathComponent)", total: 3, unit: "stages")
        var series = try CSVBarReader(format: format, validation: quarantine ? .keepInvalid : .reject)
            .read(path: file, symbol: symbol, timeframe: stated ?? .d1)
        progress.step()
        // The timeframe: as stated (--timeframe, else the file name) when the bar spacing agrees, else refused;
        // inferred from the spacing when neither states one.
        do {
            if stated != nil { try series.checkTimeframe() } else { series.timeframe = try series.inferredTimeframe() }
        } catch {
            let origin = values.isGiven("timeframe") ? "--timeframe" : "the file name"
            throw DataError(file: file, reason: stated == nil ? "\(error); give --timeframe" : "\(error) (\(origin))")
        }
        let timeframe = series.timeframe
        progress.step()
        let elapsed = clock.now - began
        let readSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let result = try context.store().append(series, source: "csv:\(file)", overlap: replace ? .replace : .rejectConflicts,
                                                badRows: quarantine ? .quarantine : .reject)
        progress.step()
        progress.finish()
        Log.info("imported", ["symbol": symbol, "timeframe": timeframe.description, "rows": "\(series.count)",
                              "added": "\(result.rowsAdded)", "read_s": String(format: "%.3f", readSeconds),
                              "rows_per_s": String(format: "%.0f", Double(series.count) / max(readSeconds, 1e-9))])
        var line = "\(symbol) \(timeframe): read \(series.count) bars (\(DataContext.range(series))); added \(result.rowsAdded)"
        if result.rowsSkipped > 0 { line += ", skipped \(result.rowsSkipped) already stored" }
        if result.rowsReplaced > 0 { line += ", replaced \(result.rowsReplaced)" }
        if result.rowsQuarantined > 0 { line += ", quarantined \(result.rowsQuarantined) (\(result.quarantinePath ?? ""))" }
        let wrote = result.rowsAdded + result.rowsReplaced + result.rowsQuarantined > 0
        print(line + "; \(result.totalRows) stored" + (wrote ? " (wrote \(result.path))" : ""))
        if let compaction = result.compaction { print(compaction) }
        if let problem = result.compactionProblem { print("the dataset was not compacted: \(problem)") }
        if let kept = result.damagedFileKeptAt {
            print("the damaged file it replaced is kept at \(kept)" + (result.damagedFileProblem.map { " (\($0))" } ?? ""))
        }
    }
}

/// `aitrader data fetch --source alpaca|mt5|csv --symbol S --timeframe TF --start T [--end T]`.
enum DataFetchCommand: AITraderCommand {
    static let path = ["data", "fetch"]
    static let summary = "fetch bars from Alpaca, MetaTrader 5 or CSV into the store"
    static let options: [Option] = [
        Option("source", .choice(["alpaca", "mt5", "csv"]), "", "where the bars come from", required: true),
        Option("symbol", .text, "SYMBOL", "the symbol", required: true),
        Option("timeframe", .timeframe, "", "the bars' timeframe", required: true),
        Option("start", .time, "", "the first bar's time", required: true),
        Option("end", .time, "", "the last bar's time, inclusive (a date includes that whole day)", default: "now"),
        Option("csv", .text, "FILE", "with --source csv: one file"),
        Option("directory", .text, "DIR", "with --source csv: a folder of SYMBOL_TF.csv files (default: the config's)"),
    ] + DataContext.csvOptions + DataContext.options
    static let discussion = """
        Fetches [start, end] and merges the finished bars into the store.
        alpaca: keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY; feed/adjustment from configs/data.yaml.
        mt5: the bridge (integrations/mt5/mt5_bridge.py) at sources.mt5.host:port, token AITRADER_MT5_TOKEN.
        Times: 2024-01-31, 2024-01-31T12:00:00Z, epoch seconds or ms, now.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let sourceName = values.string("source") ?? ""
        let symbol = values.string("symbol") ?? ""
        guard let timeframe = values.timeframe("timeframe"), let start = values.time("start"),
              let end = values.inclusiveEnd("end") else { throw UsageError("--timeframe, --start and --end are needed") }
        guard start < end else { throw UsageError("--start must be before --end") }
        let source: any DataSource
        if sourceName == "csv" {
            let format = try context.csvFormat(values)
            if let file = values.string("csv") {
                source = CSVSource(file: file, symbol: symbol, timeframe: timeframe, format: format)
            } else {
                source = CSVSource(directory: values.string("directory") ?? context.configuration.csv.directory,
                                   format: format, bins: context.configuration.bins)
            }
        } else {
            guard !values.isGiven("csv"), !values.isGiven("directory") else {
                throw UsageError("--csv and --directory go with --source csv")
            }
            source = try context.configuration.source(named: sourceName)
        }
        let pipeline = DataPipeline(source: source, storage: try context.store(), bins: context.configuration.bins)
        print(try await pipeline.fetchAndStore(symbol: symbol, timeframe: timeframe, start: start, end: end))
    }
}

/// `aitrader data update [--symbol S --timeframe TF --source X]`: incremental update from the last stored bar.
enum DataUpdateCommand: AITraderCommand {
    static let path = ["data", "update"]
    static let summary = "bring stored datasets up to date from their sources"
    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "update this dataset only (with --timeframe)"),
        Option("timeframe", .timeframe, "", "the dataset's timeframe (with --symbol)"),
        Option("source", .choice(["csv", "alpaca", "mt5"]), "", "the dataset's source (default: as configured, else csv)"),
        Option("start", .time, "", "where a dataset with nothing stored starts (default: as configured)"),
    ] + DataContext.options
    static let discussion = """
        For each dataset listed under `datasets:` in configs/data.yaml (or the one given), fetches from just after
        the last stored bar up to now and stores the finished bars: never a duplicate. A dataset with nothing stored
        starts at its `start` (or --start; CSV datasets default to the whole file). Exit status 1 when any dataset
        fails to update (the others are still updated).
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        var datasets = context.configuration.datasets
        if let symbol = values.string("symbol") {
            guard let tf = values.timeframe("timeframe") else { throw UsageError("--symbol needs --timeframe") }
            let configured = datasets.first { $0.symbol == symbol && $0.timeframe == tf }
            datasets = [DataConfiguration.Dataset(symbol: symbol, timeframe: tf,
                                                  source: values.string("source") ?? configured?.source ?? "csv",
                                                  calendar: configured?.calendar,
                                                  start: values.time("start") ?? configured?.start)]
        } else if values.isGiven("timeframe") || values.isGiven("source") {
            throw UsageError("--timeframe and --source go with --symbol")
        }
        guard !datasets.isEmpty else {
            throw CommandFailure("no datasets: list them under `datasets:` in configs/data.yaml or pass --symbol and --timeframe")
        }
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
                writeError("\(d.symbol) \(d.timeframe) (\(d.source)): \(UntrustedText.sanitized(ExitStatus.message(error), limit: 4000))\n")
            }
        }
        if failures > 0 { throw CommandFailure("\(failures) of \(datasets.count) datasets failed to update") }
    }
}
