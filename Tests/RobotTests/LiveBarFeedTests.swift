import Foundation
import MarketData
@testable import Robot
import Testing
import Trading

/// A broker's clock and bars endpoint in memory: `now` moves only when the test says; `bars` answers what had
/// closed... or, when `honest` is off, also the bar still forming and bars from before the request.
final class FakeBarServer: @unchecked Sendable {
    let lock = NSLock()
    let series: BarSeries
    var now: Int64
    var honest = true
    var failNext = 0
    var requests: [(start: Int64, end: Int64)] = []
    init(series: BarSeries, now: Int64) { self.series = series; self.now = now }

    func clock() throws -> Int64 {
        try lock.withLock {
            if failNext > 0 { failNext -= 1; throw VenueError.connectivity("clock down") }
            return now
        }
    }

    func bars(_ symbol: String, _ start: Int64, _ end: Int64) -> BarSeries {
        lock.withLock {
            requests.append((start, end))
            let step = series.timeframe.milliseconds
            let rows = series.bars.filter { b in
                honest ? (b.timestamp >= start && b.timestamp < end && b.timestamp + step <= now)
                       : (b.timestamp >= start - 3 * step && b.timestamp <= now)   // older bars and the forming one too
            }
            return BarSeries(symbol: symbol, timeframe: series.timeframe, bars: rows)
        }
    }
}

@Suite struct LiveBarFeedTests {
    static let step = Timeframe.h1.milliseconds

    static func setup(history: Int = 50, total: Int = 80) throws -> (BarSeries, BarSeries, FakeBarServer) {
        let all = try RobotFixture.eurusd(bars: total)
        let past = all[0..<history]
        let server = FakeBarServer(series: all, now: all.timestamps[history - 1] + step)
        return (all, past, server)
    }

    static func feed(_ server: FakeBarServer, history: BarSeries, recorded: RecordedBars? = nil, end: Int64 = .max) -> LiveBarFeed {
        LiveBarFeed(symbols: ["EURUSD"], timeframe: .h1, history: [history], clock: { try server.clock() },
                    fetch: { s, a, b in server.bars(s, a, b) }, record: recorded.map { r in { @Sendable bars in r.add(bars) } },
                    pollInterval: 0.001, end: end)
    }

    final class RecordedBars: @unchecked Sendable {
        let lock = NSLock()
        var bars: [Bar] = []
        func add(_ s: BarSeries) { lock.withLock { bars += s.bars } }
    }

    @Test func eachCloseOfTheBrokersClockDeliversTheNewBarAndRecordsIt() async throws {
        let (all, past, server) = try Self.setup()
        let recorded = RecordedBars()
        let feed = Self.feed(server, history: past, recorded: recorded)
        for i in 50..<55 {
            server.lock.withLock { server.now = all.timestamps[i] + Self.step }
            let view = try #require(try await feed.next())
            #expect(view.time == all.timestamps[i] + Self.step)
            #expect(view.closedCount == [i + 1])
            #expect(view.bar(0)?.close == all.close[i])
            #expect(view.updated == [0])
        }
        #expect(recorded.bars.map(\.timestamp) == Array(all.timestamps.array[50..<55]))
        #expect(feed.skippedCloses == 0)
    }

    @Test func aBarStillFormingOrAlreadyKeptIsNotBelieved() async throws {
        let (all, past, server) = try Self.setup()
        server.honest = false
        let feed = Self.feed(server, history: past)
        // Half-way through bar 50: only bar 50's close has not passed; nothing new has closed yet... until it has.
        server.lock.withLock { server.now = all.timestamps[50] + Self.step }
        let view = try #require(try await feed.next())
        #expect(view.closedCount == [51])          // bar 51 (forming, open == now) and bars before 50 ignored
        #expect(view.time == all.timestamps[50] + Self.step)
    }

    @Test func closesThatArriveTogetherAreDecidedAtTheNewest() async throws {
        let (all, past, server) = try Self.setup()
        let feed = Self.feed(server, history: past)
        server.lock.withLock { server.now = all.timestamps[53] + Self.step }    // the robot was away for 4 closes
        let view = try #require(try await feed.next())
        #expect(view.closedCount == [54])
        #expect(view.time == all.timestamps[53] + Self.step)
        #expect(feed.skippedCloses == 3)
    }

    @Test func failedPollsAreRetriedAndTheFeedEndsAtItsEnd() async throws {
        let (all, past, server) = try Self.setup()
        let end = all.timestamps[52] + Self.step
        let feed = Self.feed(server, history: past, end: end)
        server.lock.withLock { server.failNext = 3; server.now = all.timestamps[50] + Self.step }
        #expect(try await feed.next()?.closedCount == [51])
        #expect(feed.consecutiveFailures == 0)
        server.lock.withLock { server.now = end }
        #expect(try await feed.next()?.closedCount == [53])
        #expect(try await feed.next() == nil)
    }

    @Test func aRestartSkipsWhatTheJournalAlreadyDecided() async throws {
        let (all, _, server) = try Self.setup()
        let feed = Self.feed(server, history: all[0..<53])
        try await feed.skip(through: all.timestamps[52] + Self.step)
        server.lock.withLock { server.now = all.timestamps[53] + Self.step }
        let view = try #require(try await feed.next())
        #expect(view.closedCount == [54])
        #expect(feed.skippedCloses == 0)
    }
}
