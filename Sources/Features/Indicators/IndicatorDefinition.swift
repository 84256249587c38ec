import Foundation

/// The OHLCV columns (and bar open times) an indicator reads, as contiguous buffers valid for the duration of one
/// `TechnicalIndicatorCalculator` call.
public struct PriceBuffers {
    public let timestamps: UnsafeBufferPointer<Int64>
    public let open: UnsafeBufferPointer<Double>
    public let high: UnsafeBufferPointer<Double>
    public let low: UnsafeBufferPointer<Double>
    public let close: UnsafeBufferPointer<Double>
    public let volume: UnsafeBufferPointer<Double>
    public var count: Int { close.count }
}

/// One indicator the calculator knows: its name, parameters (with defaults), output columns, warm-up length and
/// computation. Column names follow the contract configs and the CLI use: output prefix then the parameters,
/// joined by `_` (`macd_signal_12_26_9`, `bbands_upper_20_2`, `sar_0.02_0.2`).
///
///     let d = IndicatorCatalog.definition(named: "macd")!
///     d.columnNames([12, 26, 9])   // ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]
///     d.lookback([12, 26, 9])      // 33
public struct IndicatorDefinition: Sendable {
    public struct Parameter: Sendable {
        public let name: String
        public let defaultValue: Double
        public let isInteger: Bool
        /// Smallest accepted value (inclusive).
        public let minimum: Double

        public static func period(_ name: String, _ value: Int, minimum: Int = 2) -> Parameter {
            Parameter(name: name, defaultValue: Double(value), isInteger: true, minimum: Double(minimum))
        }

        /// A parameter named `period`.
        public static func period(_ value: Int, minimum: Int = 2) -> Parameter {
            period("period", value, minimum: minimum)
        }

        public static func real(_ name: String, _ value: Double, minimum: Double = 0) -> Parameter {
            Parameter(name: name, defaultValue: value, isInteger: false, minimum: minimum)
        }
    }

    public let name: String
    public let summary: String
    public let parameters: [Parameter]
    /// Column prefixes, one per output (`["stoch_k", "stoch_d"]`).
    public let outputs: [String]
    /// The TA-Lib function this equals, if any (`"STOCH"`).
    public let talib: String?
    /// Warm-up bars (leading NaN rows) of every output for the given parameters.
    let lookbackFunction: @Sendable ([Double]) -> Int
    /// Warm-up per output where outputs differ (ADX vs ±DI, Ichimoku lines); nil = `lookbackFunction` for all.
    let outputLookbacks: (@Sendable ([Double]) -> [Int])?
    let computeFunction: @Sendable (PriceBuffers, [Double]) -> [[Double]]

    init(_ name: String, _ summary: String, parameters: [Parameter], outputs: [String]? = nil, talib: String? = nil,
         lookback: @escaping @Sendable ([Double]) -> Int,
         outputLookbacks: (@Sendable ([Double]) -> [Int])? = nil,
         compute: @escaping @Sendable (PriceBuffers, [Double]) -> [[Double]]) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.outputs = outputs ?? [name]
        self.talib = talib
        self.lookbackFunction = lookback
        self.outputLookbacks = outputLookbacks
        self.computeFunction = compute
    }

    public var defaults: [Double] { parameters.map(\.defaultValue) }

    /// Warm-up bars after which every output is defined (the largest of `lookbacks`).
    public func lookback(_ values: [Double]) -> Int { lookbackFunction(values) }

    /// Warm-up bars of each output, in `outputs` order.
    public func lookbacks(_ values: [Double]) -> [Int] {
        outputLookbacks?(values) ?? Array(repeating: lookbackFunction(values), count: outputs.count)
    }

    public func compute(_ prices: PriceBuffers, _ values: [Double]) -> [[Double]] { computeFunction(prices, values) }

    /// The column name of output `output` (a prefix from `outputs`) for parameter values `values`.
    public func columnName(output: String, _ values: [Double]) -> String {
        ([output] + values.map(Self.format)).joined(separator: "_")
    }

    public func columnNames(_ values: [Double]) -> [String] { outputs.map { columnName(output: $0, values) } }

    /// `14` for integral values, otherwise the shortest decimal (`0.02`).
    public static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

extension Double {
    /// The value as an Int period (callers have validated it).
    @inline(__always) var period: Int { Int(self) }
}
