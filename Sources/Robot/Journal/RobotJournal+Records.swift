import Foundation
import MarketData
import Trading

/// An order as the journal knows it.
public struct JournaledOrder: Sendable, Equatable {
    public var clientOrderID: String
    public var cycle: Int64
    /// The decision time (the bar close of the cycle that created it).
    public var time: Int64
    public var request: OrderRequest
    /// `pending_send` until the venue has acknowledged it, then the venue's `OrderStatus` raw value.
    public var status: String
    public var venueOrderID: String?
    public var filledQuantity: Double
    public var averageFillPrice: Double
    public var reason: String?

    /// Not yet acknowledged by the venue: sent or not, the journal cannot tell — reconciliation asks the venue.
    public var isPendingSend: Bool { status == RobotJournal.pendingSend }
    public var isTerminal: Bool { OrderStatus(rawValue: status)?.isTerminal ?? false }
}

/// One breaker trip or reset as journaled.
public struct JournaledBreakerEvent: Sendable, Equatable, Codable {
    public var time: Int64
    public var kind: String
    public var tripped: Bool
    public var reason: String
    public var until: Int64?
}

extension RobotJournal {
    /// The status of an order journaled before it was sent.
    public static let pendingSend = "pending_send"

    /// Records the intent to send `request` under `clientOrderID` — before it is sent. Returns false when the id is
    /// already journaled (a cycle re-run after a crash): the caller must not send it again without reconciling.
    @discardableResult
    public func recordOrderIntent(clientOrderID: String, cycle: Int64, time: Int64,
                                  request: OrderRequest) throws(RobotError) -> Bool {
        let body = try json(request)
        return try wrap { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                let changed = try database.run("""
                    INSERT OR IGNORE INTO orders (client_id, cycle, time, symbol, request, status, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, [.text(clientOrderID), .integer(cycle), .integer(time), .text(request.symbol), .text(body),
                          .text(Self.pendingSend), .integer(time)])
                var fresh = changed > 0
                if !fresh, try database.query("SELECT status FROM orders WHERE client_id = ?",
                                              [.text(clientOrderID)]).first?.first?.string == "abandoned" {
                    // Recovery abandoned it unsent; the re-run cycle decided it again.
                    try database.run("""
                        UPDATE orders SET cycle = ?, time = ?, symbol = ?, request = ?, status = ?, reason = NULL, updated = ?
                        WHERE client_id = ?
                        """, [.integer(cycle), .integer(time), .text(request.symbol), .text(body), .text(Self.pendingSend),
                              .integer(time), .text(clientOrderID)])
                    fresh = true
                }
                if fresh {
                    try database.run("INSERT INTO order_events (client_id, time, event, detail) VALUES (?, ?, 'intent', ?)",
                                     [.text(clientOrderID), .integer(time), .text(body)])
                }
                return fresh
            }
        }
    }

    /// Records the venue's view of an order (acknowledgement, fills, cancellation, rejection).
    public func recordOrderReport(_ report: OrderReport) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                let old = try database.query("SELECT status, filled FROM orders WHERE client_id = ?", [.text(report.clientOrderID)]).first
                if let old, old[0].string == report.status.rawValue, old[1].double == report.filledQuantity { return }
                try database.run("""
                    UPDATE orders SET status = ?, venue_id = ?, filled = ?, average_price = ?, reason = ?, updated = ?
                    WHERE client_id = ?
                    """, [.text(report.status.rawValue), .text(report.venueOrderID), .real(report.filledQuantity),
                          .real(report.averageFillPrice), report.reason.map { .text($0) } ?? .null, .integer(report.time),
                          .text(report.clientOrderID)])
                try database.run("INSERT INTO order_events (client_id, time, event, detail) VALUES (?, ?, ?, ?)",
                                 [.text(report.clientOrderID), .integer(report.time), .text(report.status.rawValue),
                                  report.reason.map { .text($0) } ?? .null])
            }
        }
    }

    /// Records a cancel request before it is sent.
    public func recordCancelIntent(clientOrderID: String, time: Int64) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO order_events (client_id, time, event) VALUES (?, ?, 'cancel_requested')",
                             [.text(clientOrderID), .integer(time)])
        }
    }

    /// Records a fill; false when the venue re-delivered one already journaled.
    @discardableResult
    public func recordFill(_ fill: FillReport) throws(RobotError) -> Bool {
        try wrap { () throws(StorageError) in
            try database.run("""
                INSERT OR IGNORE INTO fills (fill_id, client_id, symbol, side, units, price, commission, time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(fill.fillID), .text(fill.clientOrderID), .text(fill.symbol), .text(fill.side.rawValue),
                      .real(fill.units), .real(fill.price), .real(fill.commission), .integer(fill.time)]) > 0
        }
    }

    /// The last journaled quantity of each symbol.
    public func lastPositions() throws(RobotError) -> [String: Double] {
        try wrap { () throws(StorageError) in
            var out: [String: Double] = [:]
            for r in try database.query("SELECT symbol, quantity FROM positions WHERE id IN (SELECT MAX(id) FROM positions GROUP BY symbol)") {
                if let s = r[0].string, let q = r[1].double { out[s] = q }
            }
            return out
        }
    }

    public func recordPosition(cycle: Int64, time: Int64, symbol: String, quantity: Double,
                               averagePrice: Double) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO positions (cycle, time, symbol, quantity, average_price) VALUES (?, ?, ?, ?, ?)",
                             [.integer(cycle), .integer(time), .text(symbol), .real(quantity), .real(averagePrice)])
        }
    }

    /// Records a signal (its JSON) of a cycle; a re-run cycle replaces its earlier signals.
    public func recordSignal<S: Encodable>(cycle: Int64, time: Int64, symbol: String, signal: S) throws(RobotError) {
        let body = try json(signal)
        try wrap { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                try database.run("DELETE FROM signals WHERE cycle = ? AND symbol = ?", [.integer(cycle), .text(symbol)])
                try database.run("INSERT INTO signals (cycle, time, symbol, body) VALUES (?, ?, ?, ?)",
                                 [.integer(cycle), .integer(time), .text(symbol), .text(body)])
            }
        }
    }

    public func recordBreakerEvent(cycle: Int64, _ e: JournaledBreakerEvent) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO breaker_events (cycle, time, kind, tripped, reason, until) VALUES (?, ?, ?, ?, ?, ?)",
                             [.integer(cycle), .integer(e.time), .text(e.kind), .integer(e.tripped ? 1 : 0), .text(e.reason),
                              e.until.map { .integer($0) } ?? .null])
        }
    }

    /// A cycle's problem in words (a failed prediction call, a symbol without a prediction).
    public func recordProblem(cycle: Int64, time: Int64, text: String) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO cycle_problems (cycle, time, text) VALUES (?, ?, ?)",
                             [.integer(cycle), .integer(time), .text(text)])
        }
    }

    public func recordRiskRejection(cycle: Int64, time: Int64, request: OrderRequest, rule: String,
                                    message: String) throws(RobotError) {
        let body = try json(request)
        try wrap { () throws(StorageError) in
            try database.run("INSERT INTO risk_rejections (cycle, time, symbol, rule, message, request) VALUES (?, ?, ?, ?, ?, ?)",
                             [.integer(cycle), .integer(time), .text(request.symbol), .text(rule), .text(message), .text(body)])
        }
    }

    // MARK: Reading

    /// Every journaled order, in the order they were recorded.
    public func orders() throws(RobotError) -> [JournaledOrder] {
        let rows = try wrap { () throws(StorageError) in
            try database.query("""
                SELECT client_id, cycle, time, request, status, venue_id, filled, average_price, reason
                FROM orders ORDER BY rowid
                """)
        }
        var out: [JournaledOrder] = []
        for r in rows {
            guard let id = r[0].string, let cycle = r[1].int, let time = r[2].int, let body = r[3].string,
                  let status = r[4].string else { continue }
            let request: OrderRequest
            do { request = try RobotJSON.decoder.decode(OrderRequest.self, from: Data(body.utf8)) } catch {
                throw .journal(path: path, message: "order \(id): unreadable request: \(error)")
            }
            out.append(JournaledOrder(clientOrderID: id, cycle: cycle, time: time, request: request, status: status,
                                      venueOrderID: r[5].string, filledQuantity: r[6].double ?? 0,
                                      averageFillPrice: r[7].double ?? 0, reason: r[8].string))
        }
        return out
    }

    /// Every journaled fill, oldest first.
    public func fills() throws(RobotError) -> [FillReport] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT client_id, fill_id, symbol, side, units, price, commission, time FROM fills ORDER BY time, rowid")
                .compactMap { r in
                    guard let c = r[0].string, let f = r[1].string, let s = r[2].string,
                          let side = r[3].string.flatMap(OrderSide.init(rawValue:)), let u = r[4].double,
                          let p = r[5].double, let k = r[6].double, let t = r[7].int else { return nil }
                    return FillReport(clientOrderID: c, fillID: f, symbol: s, side: side, units: u, price: p, commission: k, time: t)
                }
        }
    }

    /// Every signal's JSON with its cycle time and symbol, oldest first.
    public func signals() throws(RobotError) -> [(time: Int64, symbol: String, body: String)] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT time, symbol, body FROM signals ORDER BY cycle, symbol").compactMap { r in
                guard let t = r[0].int, let s = r[1].string, let b = r[2].string else { return nil }
                return (t, s, b)
            }
        }
    }

    public func breakerEvents() throws(RobotError) -> [JournaledBreakerEvent] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT time, kind, tripped, reason, until FROM breaker_events ORDER BY id").compactMap { r in
                guard let t = r[0].int, let k = r[1].string, let tr = r[2].int, let reason = r[3].string else { return nil }
                return JournaledBreakerEvent(time: t, kind: k, tripped: tr != 0, reason: reason, until: r[4].int)
            }
        }
    }

    /// Every journaled problem with its cycle's bar-close time, oldest first.
    public func problems() throws(RobotError) -> [(time: Int64, text: String)] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT time, text FROM cycle_problems ORDER BY id").compactMap { r in
                guard let t = r[0].int, let text = r[1].string else { return nil }
                return (t, text)
            }
        }
    }

    public func riskRejectionCount() throws(RobotError) -> Int {
        try wrap { () throws(StorageError) in
            Int(try database.query("SELECT COUNT(*) FROM risk_rejections").first?.first?.int ?? 0)
        }
    }
}

extension RobotJournal {
    /// The order commands (sends and cancels) journaled at decision times up to `time`, in the order they were
    /// journaled — what a simulated venue replays to rebuild itself after a restart. Intents that recovery marked
    /// abandoned (never reached the venue) are left out.
    public func commands(through time: Int64) throws(RobotError) -> [JournaledCommand] {
        let rows = try wrap { () throws(StorageError) in
            try database.query("""
                SELECT e.client_id, e.time, e.event, o.request FROM order_events e JOIN orders o ON o.client_id = e.client_id
                WHERE e.event IN ('intent', 'cancel_requested') AND e.time <= ? AND o.status != 'abandoned' AND o.cycle >= 0
                ORDER BY e.id
                """, [.integer(time)])
        }
        var out: [JournaledCommand] = []
        var sent: Set<String> = []
        for r in rows {
            guard let id = r[0].string, let t = r[1].int, let event = r[2].string, let body = r[3].string else { continue }
            if event == "intent" {
                guard !sent.contains(id) else { continue }
                let request: OrderRequest
                do { request = try RobotJSON.decoder.decode(OrderRequest.self, from: Data(body.utf8)) } catch {
                    throw .journal(path: path, message: "order \(id): unreadable request: \(error)")
                }
                sent.insert(id)
                out.append(JournaledCommand(clientOrderID: id, time: t, action: .submit(request)))
            } else {
                out.append(JournaledCommand(clientOrderID: id, time: t, action: .cancel))
            }
        }
        return out
    }

    /// Marks an intent that never reached the venue as abandoned (recovery: the cycle that made it runs again and
    /// decides afresh; the same client order id may be journaled again).
    public func abandonOrder(clientOrderID: String, time: Int64, reason: String) throws(RobotError) {
        try wrap { () throws(StorageError) in
            try database.transaction { () throws(StorageError) in
                try database.run("UPDATE orders SET status = 'abandoned', reason = ?, updated = ? WHERE client_id = ?",
                                 [.text(reason), .integer(time), .text(clientOrderID)])
                try database.run("INSERT INTO order_events (client_id, time, event, detail) VALUES (?, ?, 'abandoned', ?)",
                                 [.text(clientOrderID), .integer(time), .text(reason)])
            }
        }
    }
}

extension RobotJournal {
    /// `recordOrderReport` for orders the journal has (bracket children the venue created are added on first sight).
    public func recordOrderReportIfKnown(_ report: OrderReport) throws(RobotError) {
        let known = try wrap { () throws(StorageError) in
            try database.query("SELECT 1 FROM orders WHERE client_id = ?", [.text(report.clientOrderID)]).isEmpty == false
        }
        if !known {
            let child = OrderRequest(symbol: report.symbol, side: report.side, size: .units(report.quantity ?? 0), tag: "bracket")
            try recordOrderIntent(clientOrderID: report.clientOrderID, cycle: -1, time: report.time, request: child)
        }
        try recordOrderReport(report)
    }
}

extension RobotJournal {
    /// An order's journaled history: intent, the venue's states, cancel requests, abandonment — oldest first.
    public func orderEvents(clientOrderID: String) throws(RobotError) -> [(time: Int64, event: String, detail: String?)] {
        try wrap { () throws(StorageError) in
            try database.query("SELECT time, event, detail FROM order_events WHERE client_id = ? ORDER BY id",
                               [.text(clientOrderID)]).compactMap { r in
                guard let t = r[0].int, let e = r[1].string else { return nil }
                return (t, e, r[2].string)
            }
        }
    }
}

extension RobotJournal {
    /// How many journaled orders are in each status (`pending_send`, `accepted`, `filled`, `rejected`, ...).
    public func orderCountsByStatus() throws(RobotError) -> [String: Int] {
        let rows = try wrap { () throws(StorageError) in
            try database.query("SELECT status, COUNT(*) FROM orders GROUP BY status")
        }
        var out: [String: Int] = [:]
        for r in rows { if let s = r[0].string, let n = r[1].int { out[s] = Int(n) } }
        return out
    }
}
