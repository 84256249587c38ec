import Testing
import Trading
@testable import Venues

/// The update stream's memory: what is news, what was told already, what is forgotten.
@Suite struct MT5UpdateTrackerTests {
    static let start: Int64 = 1_000_000

    static func report(_ ticket: String, _ status: OrderStatus, filled: Double = 0, time: Int64 = start) -> OrderReport {
        OrderReport(clientOrderID: "robot-\(ticket)", venueOrderID: ticket, symbol: "EURUSD", side: .buy, status: status,
                    quantity: 10_000, filledQuantity: filled, averageFillPrice: filled > 0 ? 1.1 : 0, time: time)
    }

    static func fill(_ id: String, time: Int64) -> FillReport {
        FillReport(clientOrderID: "robot-1", fillID: id, symbol: "EURUSD", side: .buy, units: 1_000, price: 1.1,
                   commission: 0.035, time: time)
    }

    @Test func eachOrderStateIsToldOnceAndNeverGoesBack() {
        var tracker = MT5UpdateTracker(since: Self.start)
        let accepted = Self.report("7", .accepted)
        #expect(tracker.order(accepted) == .order(accepted))
        #expect(tracker.order(accepted) == nil)
        let partial = Self.report("7", .partiallyFilled, filled: 4_000, time: Self.start + 10)
        #expect(tracker.order(partial) == .order(partial))
        #expect(tracker.order(accepted) == nil)                       // a stale read: less filled than told
        let filled = Self.report("7", .filled, filled: 10_000, time: Self.start + 20)
        #expect(tracker.order(filled) == .order(filled))
        #expect(tracker.order(Self.report("7", .cancelled, time: Self.start + 30)) == nil)   // final stays final
        #expect(tracker.isFinished(ticket: "7"))
        // A modification (replace) is news though the report looks the same.
        let other = Self.report("8", .accepted)
        _ = tracker.order(other)
        #expect(tracker.order(other, modified: true) == .order(other))
    }

    @Test func whatPrecedesTheStreamIsHistoryUntilItChanges() {
        var tracker = MT5UpdateTracker(since: Self.start)
        let old = Self.report("5", .accepted, time: Self.start - 60_000)
        #expect(tracker.order(old) == nil)                              // recorded, not told
        #expect(tracker.vanished(working: []) == ["5"])
        let filled = Self.report("5", .filled, filled: 10_000, time: Self.start + 1)
        #expect(tracker.order(filled) == .order(filled))               // its change is news
        #expect(tracker.vanished(working: []).isEmpty)
        #expect(tracker.order(Self.report("6", .accepted, time: Self.start - 60_000), announced: true) != nil)
        #expect(tracker.fill(Self.fill("100", time: Self.start - 1)) == nil)
        #expect(tracker.fill(Self.fill("101", time: Self.start)) == .fill(Self.fill("101", time: Self.start)))
        #expect(tracker.fill(Self.fill("101", time: Self.start)) == nil)   // once, whatever the polls
        #expect(tracker.dealCursor == Self.start)
    }

    @Test func quotesAreToldWhenTheyMove() {
        var tracker = MT5UpdateTracker(since: Self.start)
        #expect(tracker.quote(symbol: "EURUSD", bid: 1.1, ask: 1.2, time: 5) != nil)
        #expect(tracker.quote(symbol: "EURUSD", bid: 1.1, ask: 1.2, time: 5) == nil)
        #expect(tracker.quote(symbol: "EURUSD", bid: 1.1, ask: 1.2, time: 6) != nil)
        #expect(tracker.quote(symbol: "GBPUSD", bid: 1.1, ask: 1.2, time: 6) != nil)
    }

    @Test func memoryIsBoundedByTheDealWindow() {
        var tracker = MT5UpdateTracker(since: Self.start)
        for k in 0..<1_000 { _ = tracker.fill(Self.fill("\(k)", time: Self.start + Int64(k))) }
        _ = tracker.order(Self.report("1", .filled, filled: 10_000, time: Self.start))
        _ = tracker.order(Self.report("2", .accepted, time: Self.start))
        tracker.prune(before: Self.start + 900)
        #expect(tracker.deals.count == 100)
        #expect(tracker.orders.keys.sorted() == ["2"])                 // working orders are kept
        // A vanished order the history never shows is given up after `maxMisses` polls.
        var givenUp: [Bool] = []
        for _ in 0..<MT5UpdateTracker.maxMisses { givenUp.append(tracker.missed(ticket: "2")) }
        #expect(givenUp == Array(repeating: false, count: MT5UpdateTracker.maxMisses - 1) + [true])
        #expect(tracker.orders.isEmpty)
    }
}
