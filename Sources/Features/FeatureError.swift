/// A bad feature request or configuration, saying where it came from (a config file position, a CLI option,
/// a column name) and what is wrong.
///
///     FeatureError(location: "--indicators", reason: "unknown indicator 'rsx_14'")
///     // --indicators: unknown indicator 'rsx_14'
public struct FeatureError: Error, CustomStringConvertible, Equatable, Sendable {
    public var location: String?
    public var reason: String

    public init(location: String? = nil, reason: String) {
        self.location = location
        self.reason = reason
    }

    public var description: String { (location.map { $0 + ": " } ?? "") + reason }
}
