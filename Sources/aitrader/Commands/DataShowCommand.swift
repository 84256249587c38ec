import Common
import Foundation
import MarketData

/// `aitrader data list`: the stored datasets.
enum DataListCommand: AITraderCommand {
    static let path = ["data", "list"]
    static let summary = "list the stored datasets"
    static let options: [Option] = [Option(flag: "json", "print JSON (one object per dataset)")] + DataContext.options
    static let discussion = "One line per stored symbol and timeframe: rows, first and last bar, source."

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let json = values.flag("json")
        // Read-only: a data root without a store lists nothing and creates nothing.
        let list = try ParquetBarStore.datasets(root: context.storeRoot).map {
            StoredSeries(symbol: $0.symbol, timeframe: $0.timeframe, rows: $0.rows, first: $0.firstTimestamp,
                         last: $0.lastTimestamp, source: $0.source)
        }
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
    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "the symbol", required: true),
        Option("timeframe", .timeframe, "", "the stored (or finer-stored, resampled) timeframe to read", required: true),
        Option("start", .time, "", "the first bar's time (default: the first stored)"),
        Option("end", .time, "", "the last bar's time, inclusive (a date includes that whole day)"),
        Option("resample", .timeframe, "", "resample to this coarser timeframe"),
        Option("output", .text, "FILE", "write FILE.csv or FILE.parquet instead of printing"),
        Option("rows", .text, "N|all", "rows to print: the first and last N/2", default: "20"),
    ] + DataContext.binOptions + DataContext.options
    static let discussion = """
        Reads the stored TF bars (a TF not stored is resampled from a finer stored one) and resamples to --resample
        (first/max/min/last/sum; bins labelled and closed on the left; UTC days unless --fx-days (17:00 New York) or
        configured otherwise). Prints CSV or writes --output.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let symbol = values.string("symbol") ?? ""
        guard let timeframe = values.timeframe("timeframe") else { throw UsageError("missing required option --timeframe") }
        let start = values.time("start")
        let end = values.inclusiveEnd("end")
        let target = values.timeframe("resample")
        let output = values.string("output")
        let rowsText = values.string("rows") ?? "20"
        let bins = try context.bins(values)
        guard let limitValue = rowsText == "all" ? Int.max : Int(rowsText), limitValue >= 0 else {
            throw UsageError("--rows expects a whole number >= 0 or all, got '\(rowsText)'")
        }
        if let output { try BarOutput.check(output) }

        let served = try context.readOnlyStore().bars(symbol: symbol, timeframe: timeframe, start: start, end: end,
                                                      bins: bins)
        var series = served.series
        if served.resampled { writeError("\(symbol) \(timeframe): resampled from the stored \(served.source.timeframe) bars\n") }
        if let target {
            series = try TimeframeTransformer(calendar: bins).resample(series, to: target)
        }
        if let output {
            try BarOutput.write(series, to: output)
            print("\(symbol) \(series.timeframe): wrote \(series.count) bars (\(DataContext.range(series))) to \(output)")
            return
        }
        let limit = min(limitValue, series.count)
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
    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "check this symbol only"),
        Option("timeframe", .timeframe, "", "check this timeframe only"),
        Option("calendar", .text, "fx|crypto|us_equities",
               "market calendar for the gap report (also forex, equities, nyse, ...)"),
        Option("start", .time, "", "the first bar's time (default: the first stored)"),
        Option("end", .time, "", "the last bar's time, inclusive (a date includes that whole day)"),
        Option("min-gap", .integer(1 ... Int.max), "N", "ignore runs of fewer missing bars", default: "1"),
        Option("gaps", .integer(0 ... Int.max), "N", "list at most N gaps per dataset", default: "10"),
        Option(flag: "fail-on-gaps", "exit 1 when gaps are found"),
    ] + DataContext.binOptions + DataContext.options
    static let discussion = """
        For each stored dataset: verifies the file checksum, re-checks every bar (finite, low <= open/close <= high,
        volume >= 0, increasing timestamps), and reports missing bars against the market calendar (from --calendar or
        the dataset's entry in configs/data.yaml). Exit status 1 when a check fails (gaps only with --fail-on-gaps)
        or when no stored dataset matches.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let symbol = values.string("symbol")
        let timeframe = values.timeframe("timeframe")
        let calendarOption = try values.string("calendar").map { text in
            do { return try MarketCalendar(parsing: text) } catch { throw UsageError("\(error)") }
        }
        let start = values.time("start")
        let end = values.inclusiveEnd("end")
        let minGap = values.int("min-gap") ?? 1
        let listGaps = values.int("gaps") ?? 10
        let failOnGaps = values.flag("fail-on-gaps")
        let bins = try context.bins(values)

        let store = try context.readOnlyStore()
        let datasets = try store.catalogue().filter {
            (symbol == nil || $0.symbol == symbol) && (timeframe == nil || $0.timeframe == timeframe)
        }
        guard !datasets.isEmpty else {
            let what = [symbol, timeframe?.description].compactMap { $0 }.joined(separator: " ")
            throw CommandFailure("no stored dataset matches \(what.isEmpty ? "(the store is empty)" : what) in \(context.storeRoot)")
        }
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
        var description: String { "validation failed (see above)" }
    }
}
