import Foundation
import MarketData
@testable import Robot
import Simulation
import Testing
import Trading

@Suite struct JournalAndVenueTests {
    let request = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000), stopLoss: 1.0, takeProfit: 1.2)

    @Test func theJournalRecordsAnIntentOnceAndReissuesOnlyAbandonedOnes() throws {
        let j = try RobotJournal(path: temporaryPath("j.sqlite"), durability: .process)
        let cycle = try j.beginCycle(time: 3_600_000)
        #expect(try j.beginCycle(time: 3_600_000) == cycle)            // an interrupted cycle keeps its number
        #expect(try j.recordOrderIntent(clientOrderID: "r-0", cycle: cycle, time: 3_600_000, request: request))
        #expect(try !j.recordOrderIntent(clientOrderID: "r-0", cycle: cycle, time: 3_600_000, request: request))
        #expect(try j.orders().first?.isPendingSend == true)
        try j.abandonOrder(clientOrderID: "r-0", time: 3_600_000, reason: "test")
        #expect(try j.commands(through: 3_600_000).isEmpty)             // abandoned: not replayed into a venue
        #expect(try j.recordOrderIntent(clientOrderID: "r-0", cycle: cycle, time: 3_600_000, request: request))
        #expect(try j.commands(through: 3_600_000) == [JournaledCommand(clientOrderID: "r-0", time: 3_600_000, action: .submit(request))])
        let report = OrderReport(clientOrderID: "r-0", venueOrderID: "0", symbol: "EURUSD", side: .buy, status: .accepted,
                                 quantity: 1_000, filledQuantity: 0, averageFillPrice: 0, time: 3_600_000)
        try j.recordOrderReport(report)
        #expect(try j.orders().first?.status == "accepted")
        let fill = FillReport(clientOrderID: "r-0", fillID: "fill-0", symbol: "EURUSD", side: .buy, units: 1_000, price: 1.1,
                              commission: 0.5, time: 7_200_000)
        #expect(try j.recordFill(fill))
        #expect(try !j.recordFill(fill))                                // a re-delivered fill is not booked twice
        try j.completeCycle(cycle, state: "{}")
        #expect(try j.lastCompletedCycle()?.time == 3_600_000)
    }

    @Test func theSimulatedVenueRefusesAKnownClientOrderIDAndNamesChildren() async throws {
        let bars = try RobotFixture.eurusd(bars: 40)
        let venue = SimulatedVenue(cash: 10_000, models: RobotFixture.models)
        venue.setDecisionTime(bars.timestamps[0] + 3_600_000)
        let close = bars.close[0]
        let bracket = OrderRequest(symbol: "EURUSD", side: .buy, size: .units(1_000), stopLoss: close * 0.9, takeProfit: close * 1.1)
        _ = try await venue.submit(bracket, clientOrderID: "r-7")
        await #expect(throws: VenueError.duplicateClientOrderID("r-7")) { _ = try await venue.submit(bracket, clientOrderID: "r-7") }
        await #expect(throws: VenueError.unknownOrder("nope")) { _ = try await venue.cancel(clientOrderID: "nope") }
        venue.process(symbol: "EURUSD", bar: bars[1], index: 1, atr: nil)
        venue.mark(symbol: "EURUSD", price: bars.close[1])
        let open = try await venue.orders(openOnly: true).map(\.clientOrderID)
        #expect(open == ["r-7-sl", "r-7-tp"])
        #expect(try await venue.order(clientOrderID: "r-7").status == .filled)
        let account = try await venue.account()
        #expect(account.positions.first?.quantity == 1_000)
        #expect(try await venue.fills(since: .min).map(\.clientOrderID) == ["r-7"])
    }
}

@Suite struct OrderLifecycleTests {
    /// With a volume participation cap, entries fill over several bars: the order manager journals each partial
    /// fill; bracket children are adopted under `<id>-sl` / `<id>-tp`, and when one fills the other is cancelled.
    @Test func partialFillsAndOneCancelsOtherAreJournaled() async throws {
        let bars = try RobotFixture.eurusd(bars: 700)
        var models = RobotFixture.models
        models.maxVolumeParticipation = 2          // two units per unit of tick volume (~1-3k units a bar)
        let path = temporaryPath("lifecycle.sqlite")
        let mode = SimulationMode(series: [bars], cash: 10_000, models: models)
        let robot = TradingRobot(strategy: RobotStrategy(settings: RobotFixture.settings(), source: SyntheticPredictions()),
                                 mode: mode, journal: try RobotJournal(path: path, durability: .process), initialBalance: 10_000)
        try await robot.start()
        let journal = try RobotJournal(path: path)
        let orders = try journal.orders()
        var partials = 0
        for o in orders where o.cycle >= 0 {
            let events = try journal.orderEvents(clientOrderID: o.clientOrderID).map(\.event)
            #expect(events.first == "intent")
            if events.contains("partially_filled") { partials += 1 }
        }
        #expect(partials > 0, "no entry filled in parts")
        let children = Dictionary(grouping: orders.filter { $0.cycle < 0 }) { String($0.clientOrderID.dropLast(3)) }
        var oco = 0
        for (_, pair) in children where pair.count == 2 {
            let statuses = Set(pair.map(\.status))
            if statuses.contains("filled") {
                #expect(statuses == ["filled", "cancelled"], "\(pair)")
                // Cancelled by its sibling's fill, or — when the fill closed the position first — as the position closed
                // (exits the venue opened and ended between two syncs are journaled too since the robot adopts them).
                let reason = pair.first { $0.status == "cancelled" }?.reason
                #expect([OrderReason.ocoSibling.rawValue, OrderReason.positionClosed.rawValue].contains(reason ?? ""), "\(pair)")
                oco += 1
            }
        }
        #expect(oco > 0, "no bracket leg filled")
        let venue = mode.simulatedVenue.snapshot
        #expect(venue.fills.count == (try journal.fills().count))
    }
}
