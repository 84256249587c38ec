/// A bad value in a configuration file (simulation, risk profiles, circuit breakers), located at `file:line:column`
/// of the offending node and naming its key path.
///
///     configs/simulation.yaml:7:14: 'execution.slippage.model': unknown slippage model 'fixd' (none, fixed_bps, ...)
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var location: String
    public var path: String
    public var message: String
    public var description: String { "\(location): \(path.isEmpty ? "" : "'\(path)': ")\(message)" }

    public init(_ node: YAMLNode, _ message: String) {
        location = node.location
        path = node.path
        self.message = message
    }

    public init(_ yaml: YAMLError) {
        location = "\(yaml.file):\(yaml.line):\(yaml.column)"
        path = ""
        message = yaml.message
    }
}
