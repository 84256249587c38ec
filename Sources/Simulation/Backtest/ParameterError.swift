/// A simulation parameter outside its domain, named as the user writes it (the configs/simulation.yaml key, or the
/// command-line option's name): what was given and what is required.
///
///     try BacktestConfig(cash: -100).validate()
///     // throws: cash = -100: must be > 0 and finite
///     try CommissionModel.fractionOfNotional(-0.01).validate()
///     // throws: commission.rate = -0.01: a fraction of traded value must be >= 0 and < 1
///
/// Every user-facing value of SimulationMode is checked by a `validate()` (`BacktestConfig`, `ExecutionModels`
/// and each model, `SMACross`); `Backtester.run` calls them before anything is simulated and throws
/// `BacktestError.invalidParameter`, so a bad value never reaches an arithmetic trap or a precondition.
public struct ParameterError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Dotted name of the parameter: `cash`, `commission.rate`, `slippage.bps`, `fast`...
    public var field: String
    /// The value given, as text.
    public var value: String
    /// What the value must satisfy.
    public var requirement: String

    public init(field: String, value: String, requirement: String) {
        self.field = field
        self.value = value
        self.requirement = requirement
    }

    public var description: String { "\(field) = \(value): \(requirement)" }

    /// The last component of `field` (the key inside its YAML section).
    public var key: String { field.split(separator: ".").last.map(String.init) ?? field }

    /// Throws unless `ok`, naming `field` and its `value`.
    static func check(_ ok: Bool, _ field: String, _ value: Double, _ requirement: String) throws(ParameterError) {
        guard ok else { throw ParameterError(field: field, value: text(value), requirement: requirement) }
    }

    static func check(_ ok: Bool, _ field: String, _ value: some BinaryInteger,
                      _ requirement: String) throws(ParameterError) {
        guard ok else { throw ParameterError(field: field, value: "\(value)", requirement: requirement) }
    }

    /// "-100", "0.002", "nan", "inf".
    static func text(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
