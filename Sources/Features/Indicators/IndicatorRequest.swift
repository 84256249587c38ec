/// One requested indicator computation: a catalog entry, its parameter values, and which of its outputs to keep.
///
/// Parsed from the column-name contract: an output prefix followed by parameters (`rsi_14`,
/// `macd_signal_12_26_9`, `sar_0.02_0.2`). Missing trailing parameters take their defaults (`rsi` = `rsi_14`);
/// an indicator's own name with parameters selects all its outputs when it is not itself an output prefix
/// (`bbands_20_2` = the five Bollinger columns, `stoch` = `stoch_k_14_3_3` and `stoch_d_14_3_3`). A bare
/// indicator name without parameters always selects all its outputs, also where the first output has the same
/// name: `macd` = `macd_12_26_9`, `macd_signal_12_26_9`, `macd_hist_12_26_9` (the same for `adx`, `supertrend`);
/// `macd_12_26_9` is the single MACD-line column.
///
///     let r = try IndicatorRequest(parsing: "macd_hist_12_26_9")
///     r.columnNames   // ["macd_hist_12_26_9"]
public struct IndicatorRequest: Hashable, Sendable {
    public let definitionName: String
    public let parameters: [Double]
    /// Indices into the definition's `outputs`.
    public let outputs: [Int]

    public var definition: IndicatorDefinition { IndicatorCatalog.definition(named: definitionName)! }
    public var columnNames: [String] {
        let d = definition
        return outputs.map { d.columnName(output: d.outputs[$0], parameters) }
    }
    /// Warm-up bars of each kept output.
    public var lookbacks: [Int] {
        let all = definition.lookbacks(parameters)
        return outputs.map { all[$0] }
    }

    public init(definition: IndicatorDefinition, parameters: [Double]? = nil, outputs: [Int]? = nil,
                location: String? = nil) throws(FeatureError) {
        let values = parameters ?? definition.defaults
        guard values.count == definition.parameters.count else {
            throw FeatureError(location: location, reason: "\(definition.name) takes \(definition.parameters.count) parameter(s) "
                + "(\(definition.parameters.map(\.name).joined(separator: ", "))), got \(values.count)")
        }
        for (p, v) in zip(definition.parameters, values) {
            guard v.isFinite, v >= p.minimum, !p.isInteger || v == v.rounded(), !p.isInteger || v <= 100_000 else {
                throw FeatureError(location: location, reason: "\(definition.name): parameter \(p.name) must be "
                    + (p.isInteger ? "an integer" : "a number") + " >= \(IndicatorDefinition.format(p.minimum)), got \(IndicatorDefinition.format(v))")
            }
        }
        self.definitionName = definition.name
        self.parameters = values
        self.outputs = outputs ?? Array(definition.outputs.indices)
    }

    /// Parses a column name (or an indicator name with parameters); `location` names where it came from for errors.
    public init(parsing text: String, location: String? = nil) throws(FeatureError) {
        let tokens = text.lowercased().split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        var words: [String] = [], numbers: [Double] = []
        for token in tokens {
            if let v = Double(token), numbers.count > 0 || !words.isEmpty {
                numbers.append(v)
            } else {
                guard numbers.isEmpty, !token.isEmpty else {
                    throw FeatureError(location: location, reason: "malformed indicator name '\(text)' "
                        + "(expected NAME[_OUTPUT]_PARAM..., e.g. rsi_14 or macd_signal_12_26_9)")
                }
                words.append(token)
            }
        }
        let prefix = words.joined(separator: "_")
        // A bare indicator name (no parameters) means the whole indicator, even where its first output shares the
        // name (`macd` = line, signal and histogram, as `bbands` = all five bands columns).
        if numbers.isEmpty, let definition = IndicatorCatalog.definition(named: prefix) {
            try self.init(definition: definition, location: location)
            return
        }
        for definition in IndicatorCatalog.all {
            if let output = definition.outputs.firstIndex(of: prefix) {
                try self.init(definition: definition, parameters: Self.fill(numbers, definition, text, location),
                              outputs: [output], location: location)
                return
            }
        }
        if let definition = IndicatorCatalog.definition(named: prefix) {
            try self.init(definition: definition, parameters: Self.fill(numbers, definition, text, location),
                          location: location)
            return
        }
        throw FeatureError(location: location, reason: "unknown indicator '\(text)' (see `aitrader indicators list`)")
    }

    private static func fill(_ given: [Double], _ d: IndicatorDefinition, _ text: String, _ location: String?)
        throws(FeatureError) -> [Double]
    {
        guard given.count <= d.parameters.count else {
            throw FeatureError(location: location, reason: "'\(text)': \(d.name) takes at most \(d.parameters.count) "
                + "parameter(s) (\(d.parameters.map(\.name).joined(separator: ", ")))")
        }
        return given + d.defaults.dropFirst(given.count)
    }

    /// Every output of every catalog entry at default parameters.
    public static var defaultSet: [IndicatorRequest] {
        IndicatorCatalog.all.map { try! IndicatorRequest(definition: $0) }
    }
}
