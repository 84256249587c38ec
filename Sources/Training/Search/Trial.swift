/// One trial of a study: its parameters (internal representation, in the search space's order; a categorical
/// by its choice index), its state, the objective value once complete, and the intermediate values it reported
/// (step → value; for training, epoch → validation loss).
///
///     let t = Trial(number: 0, parameters: [1e-3], state: .complete, value: 0.61)
public struct Trial: Sendable, Equatable {
    public enum State: String, Sendable, Equatable { case running, complete, pruned, failed }

    public var number: Int
    public var parameters: [Double]
    public var state: State
    public var value: Double?
    public var intermediate: [Int: Double]

    public init(number: Int, parameters: [Double], state: State = .running, value: Double? = nil, intermediate: [Int: Double] = [:]) {
        self.number = number
        self.parameters = parameters
        self.state = state
        self.value = value
        self.intermediate = intermediate
    }

    /// The highest step reported, if any.
    public var lastStep: Int? { intermediate.keys.max() }
}
