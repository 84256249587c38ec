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

    static let usageLines = """
          --symbol S            symbol in the bar store (import bars with `aitrader data`)
          --model M             short_term | medium_term | long_term (configs/features/<model>.yaml)
          --timeframe TF        bar timeframe (1h, 4h, 1d, ...), or --profile P to take the model's timeframe from
                                configs/features/profiles.yaml (scalper, trader, investor)
          --data-root DIR       data root: bars in <DIR>/store (as `aitrader data`), features in <DIR>/features
          --config-dir DIR      feature set configs (default: configs/features)
        """

    init(_ arguments: ParsedArguments) throws {
        symbol = try arguments.require("symbol")
        model = try ModelKind(parsing: arguments.require("model"), location: "--model")
        let configDirectory = arguments.string("config-dir") ?? "configs/features"
        if let tf = arguments.string("timeframe") {
            timeframe = try Timeframe(parsing: tf)
        } else if let profile = arguments.string("profile") {
            let profiles = try TradingProfile.load(path: configDirectory + "/profiles.yaml")
            timeframe = try TradingProfile.named(profile, in: profiles).timeframe(for: model)
        } else {
            throw UsageError("give --timeframe TF or --profile P")
        }
        let dataRoot = try DataContext.dataRoot(arguments)
        store = try FeatureStore(root: dataRoot, bars: DataContext.store(dataRoot: dataRoot), configDirectory: configDirectory)
    }
}

/// `aitrader features compute --symbol S --timeframe TF --model M [--force]`
enum FeaturesComputeCommand: AITraderCommand {
    static let path = ["features", "compute"]
    static let summary = "compute a model's feature set over stored bars into the feature store"
    static let usage = """
        Usage: aitrader features compute --symbol S (--timeframe TF | --profile P) --model M [--force]
        \(FeatureTarget.usageLines)
          --force               recompute even when the stored features are current
          Writes data/features/<S>/<tf>/<model>.parquet; skipped when the bars, the config and the feature code are
          unchanged since the last computation (the file's cache key says so).
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let target = try FeatureTarget(arguments)
        let force = arguments.flag("force")
        try arguments.finish()
        let entry = try target.store.computeAndStore(symbol: target.symbol, timeframe: target.timeframe,
                                                     model: target.model, force: force)
        print("\(entry.computed ? "computed" : "up to date") \(target.symbol) \(target.timeframe) \(target.model): "
              + "\(entry.rows) rows x \(entry.names.count) features, warm-up \(entry.lookbacks.max() ?? 0) rows")
        print("  \(entry.path)")
        print("  key \(entry.key)")
    }
}

/// `aitrader features show --symbol S --timeframe TF --model M [--start T] [--end T] [--rows N] [--csv]`
enum FeaturesShowCommand: AITraderCommand {
    static let path = ["features", "show"]
    static let summary = "show a model's features (names, warm-up, values) from the feature store"
    static let usage = """
        Usage: aitrader features show --symbol S (--timeframe TF | --profile P) --model M [--start T] [--end T]
                                      [--rows N] [--csv]
        \(FeatureTarget.usageLines)
          --start/--end T       time range [start, end) (2017-06-01, 2017-06-01T12:00:00Z, ...); default: all
          --rows N              show the last N rows of the range (default 5; 0 = names only)
          --csv                 print the rows as CSV (timestamp then one column per feature)
          Computes the features first when the stored ones are missing or stale.
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let target = try FeatureTarget(arguments)
        let start = try arguments.string("start").map(time)
        let end = try arguments.string("end").map(time)
        let rows = try arguments.int("rows") ?? 5
        let csv = arguments.flag("csv")
        try arguments.finish()
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

    private static func time(_ text: String) throws -> Int64 {
        guard let t = UTCTime.parse(text) else { throw UsageError("cannot parse time '\(text)' (use 2017-06-01 or ISO 8601)") }
        return t
    }
}
