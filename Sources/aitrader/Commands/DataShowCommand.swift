import Common
import Foundation
import MarketData

/// `aitrader data list`: the stored datasets.
enum DataListCommand: AITraderCommand {
    static let path = ["data", "list"]
    static let summary = "list the stored datasets"
    static let usage = """
        Usage: aitrader data list [--json]
          One line per stored symbol and timeframe: rows, first and last bar, source.
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        let json = arguments.flag("json")
        try arguments.finish()
        let list = try context.store().catalogue()
        if json {
            let rows = list.map { s -> [String: Any] in
                ["symbol": s.symbol, "timeframe": s.timeframe.description, "rows": s.rows,
                 "first": s.first.map(UTCTime.iso8601) ?? NSNull(), "last": s.last.map(UTCTime.iso8601) ?? NSNull(),
                 "source": s.source]
            }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if list.isEmpty { print("no datasets in \(context.storeRoot)"); return }
        print("symbol      tf    rows       first                 last                  source")
        for s in list {
            print(s.symbol.padding(toLength: 12, withPad: " ", startingAt: 0)
                + s.timeframe.description.padding(toLength: 6, withPad: " ", startingAt: 0)
                + String(s.rows).padding(toLength: 11, withPad: " ", startingAt: 0)
                + (s.first.map(UTCTime.iso8601) ?? "-").padding(toLength: 22, withPad: " ", startingAt: 0)
                + (s.last.map(UTCTime.iso8601) ?? "-").padding(toLength: 22, withPad: " ", startingAt: 0) + s.source)
        }
    }
}

/// `aitrader data show --symbol S --timeframe TF [--start --end] [--resample TF] [--output FILE.csv|.parquet]`.
enum DataShowCommand: AITraderCommand {
    static let path = ["data", "show"]
    static let summary = "print or export stored bars, optionally resampled"
    static let usage = """
        Usage: aitrader data show --symbol S --timeframe TF [--start T] [--end T] [--resample TF]
                                  [--output FILE.csv|FILE.parquet] [--rows N|all]
                                  [--fx-days | --day-start HH:MM --day-zone ZONE]
          Reads [start, end) of the stored TF bars (a TF not stored is resampled from a finer stored one) and
          resamples to --resample (first/max/min/last/sum; bins labelled and closed on the left; UTC days unless
          --fx-days (17:00 New York) or configured otherwise). Prints CSV (the first and last N/2 rows, default
          20; --rows all for every row) or writes --output.
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        let symbol = try arguments.require("symbol")
        guard let timeframe = try DataContext.timeframe(arguments) else { throw UsageError("missing required option --timeframe") }
        let start = try DataContext.time(arguments, "start")
        let end = try DataContext.time(arguments, "end")
        let target = try DataContext.timeframe(arguments, "resample")
        let output = arguments.string("output")
        let rowsText = arguments.string("rows") ?? "20"
        let bins = try context.bins(arguments)
        try arguments.finish()
        guard rowsText == "all" || Int(rowsText).map({ $0 >= 0 }) == true else { throw UsageError("--rows expects N or all") }

        let pipeline = DataPipeline(source: CSVSource(directory: context.configuration.csv.directory),
                                    storage: try context.store(), bins: bins)
        var series = try pipeline.getData(symbol: symbol, timeframe: timeframe, start: start, end: end)
        if let target {
            series = try TimeframeTransformer(calendar: bins).resample(series, to: target)
        }
        if let output {
            try BarOutput.write(series, to: output)
            print("\(symbol) \(series.timeframe): wrote \(series.count) bars (\(DataContext.range(series))) to \(output)")
            return
        }
        let limit = rowsText == "all" ? series.count : Int(rowsText)!
        if series.count <= limit {
            print(BarOutput.csv(series), terminator: "")
        } else {
            let head = BarOutput.csv(series, rows: 0..<(limit / 2))
            let tail = BarOutput.csv(series, rows: (series.count - (limit - limit / 2))..<series.count)
            print(head + "... \(series.count - limit) more rows ...\n" + tail.split(separator: "\n", maxSplits: 1)[1], terminator: "")
            if !tail.hasSuffix("\n") { print() }
        }
        writeError("\(symbol) \(series.timeframe): \(series.count) bars, \(DataContext.range(series))\n")
    }
}

/// `aitrader data validate`: checksums, bar rules and calendar gaps of stored datasets.
enum DataValidateCommand: AITraderCommand {
    static let path = ["data", "validate"]
    static let summary = "check stored datasets: checksums, OHLC rules, gaps against a market calendar"
    static let usage = """
        Usage: aitrader data validate [--symbol S [--timeframe TF]] [--calendar fx|crypto|us_equities]
                                      [--start T] [--end T] [--min-gap N] [--gaps N] [--fail-on-gaps]
          For each stored dataset: verifies the file checksum, re-checks every bar (finite, low <= open/close <= high,
          volume >= 0, increasing timestamps), and reports missing bars against the market calendar (from --calendar
          or the dataset's entry in configs/data.yaml). Lists up to --gaps N gaps (default 10), ignoring runs
          shorter than --min-gap bars. Exit status 1 when a check fails (gaps only with --fail-on-gaps).
        \(DataContext.optionsHelp)
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let context = try DataContext(arguments)
        let symbol = arguments.string("symbol")
        let timeframe = try DataContext.timeframe(arguments)
        let calendarOption = try arguments.string("calendar").map { text in
            do { return try MarketCalendar(parsing: text) } catch { throw UsageError("\(error)") }
        }
        let start = try DataContext.time(arguments, "start")
        let end = try DataContext.time(arguments, "end")
        let minGap = try arguments.int("min-gap") ?? 1
        let listGaps = try arguments.int("gaps") ?? 10
        let failOnGaps = arguments.flag("fail-on-gaps")
        let bins = try context.bins(arguments)
        try arguments.finish()

        let store = try context.store()
        let datasets = try store.catalogue().filter {
            (symbol == nil || $0.symbol == symbol) && (timeframe == nil || $0.timeframe == timeframe)
        }
        guard !datasets.isEmpty else { throw UsageError("no stored dataset matches") }
        var failed = false
        for d in datasets {
            var line = "\(d.symbol) \(d.timeframe): \(d.rows) bars"
            do {
                try store.verify(symbol: d.symbol, timeframe: d.timeframe)
                line += ", checksum ok"
            } catch {
                failed = true
                print(line + ", CHECKSUM FAILED: \(error)")
                continue
            }
            let bars = try store.bars(symbol: d.symbol, timeframe: d.timeframe, start: start, end: end)
            let report = BarValidator().validate(bars)
            if report.isClean { line += ", bars ok" } else {
                failed = true
                line += ", \(report.issues.count) INVALID BARS"
            }
            print(line)
            for issue in report.issues.prefix(10) { print("  \(issue)") }
            let configured = context.configuration.datasets.first { $0.symbol == d.symbol && $0.timeframe == d.timeframe }
            guard let calendar = calendarOption ?? configured?.calendar else {
                print("  gaps: not checked (no --calendar and no calendar configured for this dataset)")
                continue
            }
            let gaps = GapDetector(calendar: calendar, bins: bins, minimumGapBars: minGap).report(bars, start: start, end: end)
            print("  " + gaps.description)
            for gap in gaps.gaps.sorted(by: { $0.missingBars > $1.missingBars }).prefix(listGaps) { print("    gap \(gap)") }
            if failOnGaps && !gaps.gaps.isEmpty { failed = true }
        }
        if failed { throw ValidationFailure() }
    }

    struct ValidationFailure: Error, CustomStringConvertible {
        var description: String { "validation failed" }
    }
}
