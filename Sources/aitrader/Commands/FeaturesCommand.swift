import Common
import Features
import Foundation
import MarketData

/// Options `features compute` and `features show` share.
private struct FeatureTarget {
    let store: FeatureStore
    let symbol: String
    let timeframe: Timeframe
    let model: ModelKind

    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "symbol in the bar store (import bars with `aitrader data`)", required: true),
    ] + shared
    /// Everything but --symbol (`features compute` takes several).
    static let shared: [Option] = [
        Option("model", .choice(["short_term", "medium_term", "long_term"]), "",
               "whose feature set (configs/features/<model>.yaml)", required: true),
        Option("timeframe", .timeframe, "", "bar timeframe; or --profile to take the model's timeframe from it"),
        Option("profile", .text, "NAME",
               "trading profile of configs/features/profiles.yaml (scalper, trader, investor) giving the timeframe"),
        Option("config-dir", .text, "DIR", "feature set configs", default: "configs/features"),
        DataContext.dataRootOption,
    ]

    init(_ values: OptionValues, symbol: String? = nil) throws {
        self.symbol = symbol ?? values.string("symbol") ?? ""
        model = try ModelKind(parsing: values.string("model") ?? "", location: "--model")
        let configDirectory = values.string("config-dir") ?? "configs/features"
        if let tf = values.timeframe("timeframe") {
            guard !values.isGiven("profile") else { throw UsageError("give --timeframe or --profile, not both") }
            timeframe = tf
        } else if let profile = values.string("profile") {
            let profiles = try TradingProfile.load(path: configDirectory + "/profiles.yaml")
            do { timeframe = try TradingProfile.named(profile, in: profiles).timeframe(for: model) } catch {
                throw UsageError(ExitStatus.message(error))
            }
        } else {
            throw UsageError("give --timeframe TF or --profile P")
        }
        let dataRoot = try DataContext.dataRoot(values)
        // Bars read-only; a timeframe not stored is resampled from a finer stored one (configs/data.yaml's days).
        store = try FeatureStore(root: dataRoot, bars: DataContext.readOnlyStore(dataRoot: dataRoot),
                                 configDirectory: configDirectory, bins: DataContext.defaultConfiguration().bins)
    }
}

/// `aitrader features compute --symbol S --timeframe TF --model M [--force]`
enum FeaturesComputeCommand: AITraderCommand {
    static let path = ["features", "compute"]
    static let summary = "compute a model's feature set over stored bars into the feature store"
    static let options: [Option] = [
        Option("symbol", .list, "SYMBOL[,SYMBOL...]", "symbols in the bar store (import bars with `aitrader data`)",
               required: true),
    ] + FeatureTarget.shared + [
        Option(flag: "force", "recompute even when the stored features are current"),
    ]
    static let discussion = """
        Writes <data-root>/features/<S>/<tf>/<model>.parquet; skipped when the bars, the config and the feature code
        are unchanged since the last computation (the file's cache key says so).
        """

    static func run(_ values: OptionValues) async throws {
        let force = values.flag("force")
        for symbol in values.list("symbol") ?? [] {
            let target = try FeatureTarget(values, symbol: symbol)
            let progress = ProgressReporter("features \(symbol) \(target.timeframe) \(target.model)", total: 0,
                                    unit: "indicators")
            let entry = try target.store.computeAndStore(symbol: target.symbol, timeframe: target.timeframe,
                                                         model: target.model, force: force, progress: progress)
            print("\(entry.computed ? "computed" : "up to date") \(target.symbol) \(target.timeframe) \(target.model): "
                  + "\(entry.rows) rows x \(entry.names.count) features, warm-up \(entry.lookbacks.max() ?? 0) rows")
            print("  \(entry.path)")
            print("  key \(entry.key)")
        }
    }
}

/// `aitrader features show --symbol S --timeframe TF --model M [--start T] [--end T] [--rows N] [--csv]`
enum FeaturesShowCommand: AITraderCommand {
    static let path = ["features", "show"]
    static let summary = "show a model's features (names, warm-up, values) from the feature store"
    static let options: [Option] = FeatureTarget.options + [
        Option("start", .time, "", "the first row's time (default: all)"),
        Option("end", .time, "", "the last row's time, inclusive (a date includes that whole day)"),
        Option("rows", .integer(0 ... Int.max), "N", "show the last N rows of the range (0: names only)", default: "5"),
        Option(flag: "csv", "print the rows as CSV (timestamp then one column per feature)"),
    ]
    static let discussion = "Computes the features first when the stored ones are missing or stale."

    static func run(_ values: OptionValues) async throws {
        let target = try FeatureTarget(values)
        let start = values.time("start")
        let end = values.inclusiveEnd("end")
        let rows = values.int("rows") ?? 5
        let csv = values.flag("csv")
        var frame = try target.store.features(symbol: target.symbol, timeframe: target.timeframe, model: target.model,
                                              start: start, end: end)
        if csv {
            if rows > 0 { frame = frame[rows: max(0, frame.count - rows)..<frame.count] }
            print(FeatureFrameCSV.text(frame), terminator: "")
            return
        }
        print("\(target.symbol) \(target.timeframe) \(target.model): \(frame.count) rows, \(frame.width) features")
        for (name, lookback) in zip(frame.names, frame.lookbacks) {
            print("  " + name.padding(toLength: 30, withPad: " ", startingAt: 0) + "warm-up \(lookback)")
        }
        guard rows > 0, frame.count > 0 else { return }
        let tail = frame[rows: max(0, frame.count - rows)..<frame.count]
        for r in 0..<tail.count {
            print(UTCTime.iso8601(tail.timestamps[r]) + "  "
                  + tail.columns.map { $0[r].isNaN ? "NaN" : String(format: "%.6g", $0[r]) }.joined(separator: " "))
        }
    }
}
