/// The pre-trade risk engine's verdict on one order.
public enum RiskDecision: Sendable, Equatable {
    case accept
    case reject(RiskRejection)

    public var isAccepted: Bool { self == .accept }

    /// The rejection, nil when accepted.
    public var rejection: RiskRejection? {
        if case .reject(let r) = self { return r }
        return nil
    }
}

/// Why an order was refused: the rule (a stable name for the journal and tests) and a message in the user's terms.
///
///     RiskRejection(rule: "max_exposure", message: "gross exposure after the order 21 500.00 would exceed
///                   2 × equity 10 000.00 = 20 000.00")
///
/// Rules: `circuit_breaker`, `equity`, `price`, `price_band`, `quantity`, `bracket`, `max_positions`,
/// `max_exposure`, `throttle`.
public struct RiskRejection: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public var rule: String
    public var message: String

    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "risk check '\(rule)' refused the order: \(message)" }
}
