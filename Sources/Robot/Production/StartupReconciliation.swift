import Foundation
import Trading

/// What a production robot finds when it compares its journal with the broker before its first cycle: every order,
/// fill and position on which they disagree. Nothing here changes either side — the order manager's reconciliation
/// then adopts the broker's view (the broker is the authority); this report is what the operator reads.
///
///     journal: r-7 accepted (working)      broker: r-7 filled 10000 @ 1.10210
///     → order_status_differs: "order r-7: journal accepted, broker filled (filled 10000 @ 1.1021 while the robot was down)"
public struct ReconciliationReport: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The broker has an order the journal never recorded (placed by hand, by another program, or lost).
        case orderUnknownToJournal = "order_unknown_to_journal"
        /// The journal holds a working or unsent order the broker does not have.
        case orderMissingAtBroker = "order_missing_at_broker"
        /// Both know the order; its state moved while the robot was down (filled, cancelled, expired...).
        case orderStatusDiffers = "order_status_differs"
        /// The broker booked an execution the journal does not hold.
        case fillNotJournaled = "fill_not_journaled"
        /// The journal holds an execution the broker does not report.
        case fillMissingAtBroker = "fill_missing_at_broker"
        /// The broker's position differs from the journaled fills' sum (a position the journal does not know).
        case positionDiffers = "position_differs"
    }

    public struct Difference: Sendable, Equatable, Codable {
        public var kind: Kind
        public var clientOrderID: String?
        public var symbol: String?
        public var message: String
    }

    /// When it was made (UTC ms).
    public var time: Int64
    public var journalOrders: Int
    public var brokerOrders: Int
    public var differences: [Difference]

    public var isClean: Bool { differences.isEmpty }

    /// Compares the journal with the broker. Quantities agree within 1e-9 of their size (fills are summed).
    public static func compare(journalOrders: [JournaledOrder], journalFills: [FillReport], brokerOrders: [OrderReport],
                               brokerFills: [FillReport], brokerPositions: [PositionReport], time: Int64) -> ReconciliationReport {
        var out: [Difference] = []
        let journalByID = Dictionary(journalOrders.map { ($0.clientOrderID, $0) }, uniquingKeysWith: { a, _ in a })
        let brokerByID = Dictionary(brokerOrders.map { ($0.clientOrderID, $0) }, uniquingKeysWith: { a, _ in a })
        for b in brokerOrders {
            guard let j = journalByID[b.clientOrderID] else {
                // A bracket child of a journaled parent is adopted by the order manager; anything else is foreign.
                let parent = String(b.clientOrderID.dropLast(3))
                if (b.clientOrderID.hasSuffix("-sl") || b.clientOrderID.hasSuffix("-tp")), journalByID[parent] != nil { continue }
                out.append(Difference(kind: .orderUnknownToJournal, clientOrderID: b.clientOrderID, symbol: b.symbol,
                                      message: "the broker has order \(b.clientOrderID) (\(b.side.rawValue) \(b.symbol), \(b.status.rawValue)) that the journal never recorded"))
                continue
            }
            if j.status != b.status.rawValue || !same(j.filledQuantity, b.filledQuantity) {
                var what = "order \(b.clientOrderID): journal \(j.status), broker \(b.status.rawValue)"
                if b.filledQuantity > j.filledQuantity {
                    what += " (filled \(number(b.filledQuantity)) @ \(number(b.averageFillPrice)) while the robot was down)"
                }
                out.append(Difference(kind: .orderStatusDiffers, clientOrderID: b.clientOrderID, symbol: b.symbol, message: what))
            }
        }
        for j in journalOrders where brokerByID[j.clientOrderID] == nil && !j.isTerminal && j.status != "abandoned" {
            out.append(Difference(kind: .orderMissingAtBroker, clientOrderID: j.clientOrderID, symbol: j.request.symbol,
                                  message: j.isPendingSend
                                      ? "order \(j.clientOrderID) was journaled but never reached the broker"
                                      : "order \(j.clientOrderID) is \(j.status) in the journal but unknown to the broker"))
        }
        let journalFillIDs = Set(journalFills.map(\.fillID)), brokerFillIDs = Set(brokerFills.map(\.fillID))
        for f in brokerFills where !journalFillIDs.contains(f.fillID) {
            out.append(Difference(kind: .fillNotJournaled, clientOrderID: f.clientOrderID, symbol: f.symbol,
                                  message: "the broker booked fill \(f.fillID) of \(f.clientOrderID): \(f.side.rawValue) \(number(f.units)) \(f.symbol) @ \(number(f.price)), not in the journal"))
        }
        // A broker reports a limited history: only journal fills since its oldest reported one are expected there
        // (older ones still count in the positions below).
        let reportedSince = brokerFills.map(\.time).min() ?? .max
        for f in journalFills where f.time >= reportedSince && !brokerFillIDs.contains(f.fillID) {
            out.append(Difference(kind: .fillMissingAtBroker, clientOrderID: f.clientOrderID, symbol: f.symbol,
                                  message: "the journal holds fill \(f.fillID) of \(f.clientOrderID) that the broker does not report"))
        }
        var journaled: [String: Double] = [:]
        for f in journalFills { journaled[f.symbol, default: 0] += f.side.sign * f.units }
        var broker: [String: Double] = [:]
        for p in brokerPositions { broker[p.symbol, default: 0] += p.quantity }
        for symbol in Set(journaled.keys).union(broker.keys).sorted() {
            let j = journaled[symbol] ?? 0, b = broker[symbol] ?? 0
            guard !same(j, b) else { continue }
            let message = j == 0
                ? "the broker holds \(number(b)) \(symbol), a position the journal does not know"
                : "position \(symbol): journal \(number(j)), broker \(number(b))"
            out.append(Difference(kind: .positionDiffers, clientOrderID: nil, symbol: symbol, message: message))
        }
        return ReconciliationReport(time: time, journalOrders: journalOrders.count, brokerOrders: brokerOrders.count,
                                    differences: out)
    }

    static func same(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.6g", v)
    }
}
