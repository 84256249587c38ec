/// One run as the local tracking store holds it: what `aitrader runs list / show / compare` print.
public struct TrackedRunRecord: Sendable, Equatable, Codable {
    public var id: String
    public var experiment: String
    public var name: String
    public var status: RunStatus
    /// UTC epoch ms.
    public var startTime: Int64
    public var endTime: Int64?
    public var params: [String: String]
    public var tags: [String: String]
    /// The last value of each metric (by step, then time).
    public var latestMetrics: [String: Double]
    /// Artifact names (relative paths under the run's artifacts folder).
    public var artifacts: [String]
    /// The run's artifacts folder.
    public var artifactDirectory: String

    public init(id: String, experiment: String, name: String, status: RunStatus, startTime: Int64, endTime: Int64?,
                params: [String: String], tags: [String: String], latestMetrics: [String: Double], artifacts: [String],
                artifactDirectory: String) {
        self.id = id
        self.experiment = experiment
        self.name = name
        self.status = status
        self.startTime = startTime
        self.endTime = endTime
        self.params = params
        self.tags = tags
        self.latestMetrics = latestMetrics
        self.artifacts = artifacts
        self.artifactDirectory = artifactDirectory
    }
}
