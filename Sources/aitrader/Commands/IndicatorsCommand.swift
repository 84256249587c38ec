import Common
import Features
import Foundation
import MarketData

/// `aitrader indicators list`: every indicator with its parameters, defaults, output columns and warm-up.
enum IndicatorsListCommand: AITraderCommand {
    static let path = ["indicators", "list"]
    static let summary = "list the technical indicators, their parameters and column names"
    static let usage = """
        Usage: aitrader indicators list
          One line per indicator: default column names, parameters, warm-up bars, the TA-Lib function it equals.
          Column names: NAME[_OUTPUT]_PARAM_PARAM... (rsi_14, macd_signal_12_26_9, bbands_upper_20_2, sar_0.02_0.2).
        """

    static func run(_ arguments: ParsedArguments) async throws {
        try arguments.finish()
        for d in IndicatorCatalog.all {
            let params = d.parameters.map { "\($0.name)=\(IndicatorDefinition.format($0.defaultValue))" }
                .joined(separator: " ")
            var line = d.name.padding(toLength: 11, withPad: " ", startingAt: 0)
            line += d.summary + "\n    columns: " + d.columnNames(d.defaults).joined(separator: ", ")
            line += "\n    parameters: " + (params.isEmpty ? "none" : params) + "; warm-up \(d.lookback(d.defaults)) bars"
            if let talib = d.talib { line += "; equals TA-Lib \(talib)" }
            print(line)
        }
    }
}

/// `aitrader indicators compute --input BARS.csv --output OUT.csv [--indicators a,b,...]`.
enum IndicatorsComputeCommand: AITraderCommand {
    static let path = ["indicators", "compute"]
    static let summary = "compute indicators on a bar file and write them as CSV or Parquet"
    static let usage = """
        Usage: aitrader indicators compute --input BARS.csv|.parquet --output OUT.csv|.parquet
                                           [--indicators rsi_14,macd_12_26_9,...] [--symbol S] [--timeframe TF]
          Reads bars in any CSV layout `aitrader data` reads, or Parquet bars; writes a timestamp column then one
          column per requested output (default: every indicator at its default parameters), NaN during warm-up.
          A bare indicator name takes its defaults (rsi = rsi_14); an indicator name with parameters gives all of
          its outputs (bbands_20_2 = upper, middle, lower, pctb, width).
        """

    static func run(_ arguments: ParsedArguments) async throws {
        let input = try arguments.require("input")
        let output = try arguments.require("output")
        let names = arguments.list("indicators")
        let symbol = arguments.string("symbol")
        let timeframe = try arguments.string("timeframe").map { try Timeframe(parsing: $0) }
        try arguments.finish()
        let parquet = output.lowercased().hasSuffix(".parquet")
        guard parquet || output.lowercased().hasSuffix(".csv") else {
            throw UsageError("--output must be a .csv or .parquet file")
        }
        let bars = try BarFile.load(path: input, symbol: symbol, timeframe: timeframe)
        let calculator = TechnicalIndicatorCalculator()
        let frame: FeatureFrame
        if let names {
            frame = try calculator.compute(bars, columns: names, location: "--indicators")
        } else {
            frame = calculator.compute(bars, requests: IndicatorRequest.defaultSet)
        }
        if parquet { try FeatureFrameParquet.write(frame, to: output) } else { try FeatureFrameCSV.write(frame, to: output) }
        Log.info("indicators written", ["bars": "\(bars.count)", "columns": "\(frame.width)", "output": output])
    }
}
