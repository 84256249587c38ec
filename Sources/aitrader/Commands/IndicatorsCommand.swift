import Common
import Features
import Foundation
import MarketData

/// `aitrader indicators list`: every indicator with its parameters, defaults, output columns and warm-up.
enum IndicatorsListCommand: AITraderCommand {
    static let path = ["indicators", "list"]
    static let summary = "list the technical indicators, their parameters and column names"
    static let options: [Option] = []
    static let discussion = """
        One line per indicator: default column names, parameters, warm-up bars, the TA-Lib function it equals.
        Column names: NAME[_OUTPUT]_PARAM_PARAM... (rsi_14, macd_signal_12_26_9, bbands_upper_20_2, sar_0.02_0.2).
        """

    static func run(_ values: OptionValues) async throws {
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
    static let options: [Option] = [
        Option("input", .text, "BARS", "bars: a CSV in any layout `aitrader data` reads, or Parquet bars", required: true),
        Option("output", .text, "OUT", "OUT.csv or OUT.parquet", required: true),
        Option("indicators", .list, "A,B,...", "which indicators (default: every indicator at its default parameters)"),
        Option("symbol", .text, "SYMBOL", "the symbol (default: from the file name)"),
        Option("timeframe", .timeframe, "", "the bars' timeframe (default: from the file name or the bar spacing)"),
    ]
    static let discussion = """
        Writes a timestamp column then one column per requested output, NaN during warm-up. A bare indicator name
        takes its defaults and gives all of its outputs (rsi = rsi_14; macd = macd, signal and histogram at 12/26/9;
        bbands = upper, middle, lower, pctb, width at 20/2).
        """

    static func run(_ values: OptionValues) async throws {
        let input = values.string("input") ?? ""
        let output = values.string("output") ?? ""
        let names = values.list("indicators")
        let symbol = values.string("symbol")
        let timeframe = values.timeframe("timeframe")
        let parquet = output.lowercased().hasSuffix(".parquet")
        guard parquet || output.lowercased().hasSuffix(".csv") else {
            throw UsageError("--output must end in .csv or .parquet, got '\(output)'")
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
