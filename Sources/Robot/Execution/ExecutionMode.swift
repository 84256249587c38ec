import Trading

/// How the robot meets the market: where its orders go (`venue`) and when a cycle happens (`nextCycle`, which
/// returns at each bar close with a view of closed bars only). Simulation, paper and live modes differ here and
/// nowhere else — the robot's code is the same.
public protocol ExecutionMode: AnyObject, Sendable {
    /// "simulation", "paper", "live".
    var name: String { get }
    var venue: any Venue { get }
    /// Waits for the next bar close and returns the market as of then; nil when the session's data has ended.
    func nextCycle() async throws(RobotError) -> MarketView?
    /// Brings the mode to where it stood after the cycle at `time`, given every order command journaled by the
    /// cycles completed up to then. A simulation rebuilds its venue from them; a live venue keeps its own state.
    func restore(through time: Int64, commands: [JournaledCommand]) async throws(RobotError)
}

/// An order command as journaled, for rebuilding a simulated venue after a restart.
public struct JournaledCommand: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case submit(OrderRequest)
        case cancel
    }
    public var clientOrderID: String
    /// The decision time it was issued at.
    public var time: Int64
    public var action: Action
}
