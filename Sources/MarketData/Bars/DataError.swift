/// Bad market data, located precisely enough to fix it: file, line (1-based, header = line 1) and field.
///
///     DataError(file: "eurusd.csv", line: 17, field: "High", reason: "not a number: 'abc'")
///     // eurusd.csv:17: field 'High': not a number: 'abc'
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var field: String?
    public var reason: String

    public init(file: String, line: Int? = nil, field: String? = nil, reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += "field '\(field)': " }
        return s + reason
    }
}
