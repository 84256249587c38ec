import Common
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

extension FeatureError {
    /// Loads a YAML configuration file and parses it, turning YAML errors into located `FeatureError`s.
    static func loadingYAML<T>(path: String, _ parse: (YAMLNode) throws -> T) throws(FeatureError) -> T {
        do {
            return try parse(YAMLNode.load(path: path))
        } catch let error as YAMLError {
            throw FeatureError(location: "\(error.file):\(error.line):\(error.column)", reason: error.message)
        } catch let error as FeatureError {
            throw error
        } catch {
            throw FeatureError(location: path, reason: "\(error)")
        }
    }
}
