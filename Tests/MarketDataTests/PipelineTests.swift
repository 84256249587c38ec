import Common
import Foundation
import Testing
@testable import MarketData

@Suite struct MarketCalendarTests {
    func days(_ y: Int) -> (count: Int, early: Int) {
        let s = MarketCalendar.usEquities.sessions(from: UTCTime.milliseconds(year: y, month: 1, day: 1),
                                                   to: UTCTime.milliseconds(year: y + 1, month: 1, day: 1))
        return (s.count, s.filter { $0.close - $0.open < 6 * UTCTime.msPerHour }.count)
    }

    @Test func nyseTradingDaysPerYear() {
        // NYSE published counts: 2022: 251, 2023: 250, 2024: 252 (early closes 2024: Jul 3, Nov 29, Dec 24).
        #expect(days(2022).count == 251)
        #expect(days(2023).count == 250)
        #expect(days(2024).count == 252)
        #expect(days(2024).early == 3)
        let goodFriday2024 = UTCTime.milliseconds(year: 2024, month: 3, day: 29, hour: 15)
        #expect(!MarketCalendar.usEquities.isOpen(at: goodFriday2024))
        // 09:30 New York = 13:30 UTC in summer, 14:30 UTC in winter.
        #expect(MarketCalendar.usEquities.isOpen(at: UTCTime.milliseconds(year: 2024, month: 7, day: 1, hour: 13, minute: 30)))
        #expect(!MarketCalendar.usEquities.isOpen(at: UTCTime.milliseconds(year: 2024, month: 1, day: 2, hour: 14)))
    }

    @Test func fxWeekOpensSundayFiveInTheAfternoonNewYork() throws {
        let week = MarketCalendar.fx.sessions(from: UTCTime.milliseconds(year: 2017, month: 7, day: 1),
                                              to: UTCTime.milliseconds(year: 2017, month: 7, day: 8))
        #expect(week == [MarketCalendar.Session(open: UTCTime.milliseconds(year: 2017, month: 7, day: 2, hour: 21),
                                                close: UTCTime.milliseconds(year: 2017, month: 7, day: 7, hour: 21))])
        #expect(MarketCalendar.fx.isOpen(at: UTCTime.milliseconds(year: 2018, month: 1, day: 7, hour: 22)))
        #expect(!MarketCalendar.fx.isOpen(at: UTCTime.milliseconds(year: 2018, month: 1, day: 7, hour: 21, minute: 59)))
        #expect(MarketCalendar.crypto.isOpen(at: UTCTime.milliseconds(year: 2018, month: 1, day: 6, hour: 12)))
        #expect(try MarketCalendar(parsing: "us-equities") == .usEquities)
    }
}

@Suite struct GapDetectorTests {
    let hourly: BarSeries
    init() throws { hourly = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1) }

    @Test func findsRemovedBarsAsOneGap() {
        let base = GapDetector(calendar: .fx).report(hourly)
        var bars = hourly.bars
        let removed = bars[1000..<1005]
        bars.removeSubrange(1000..<1005)
        let holed = GapDetector(calendar: .fx).report(BarSeries(symbol: "EURUSD", timeframe: .h1, bars: bars),
                                                      start: base.start, end: base.end)
        #expect(holed.expectedBars == base.expectedBars)
        #expect(holed.missingBars == base.missingBars + 5)
        #expect(holed.gaps.contains(Gap(start: removed.first!.timestamp,
                                        end: removed.last!.timestamp + UTCTime.msPerHour, missingBars: 5)))
        #expect(base.coverage > 0.95)
    }

    @Test func cryptoCountsEveryHourAndDailyBinsMatchByDay() {
        let t0 = UTCTime.milliseconds(year: 2024, month: 1, day: 1)
        let bars = (0..<48).filter { $0 != 10 && $0 != 11 }.map {
            Bar(timestamp: t0 + Int64($0) * UTCTime.msPerHour, open: 1, high: 1, low: 1, close: 1, volume: 1)
        }
        let r = GapDetector(calendar: .crypto).report(BarSeries(symbol: "BTC/USD", timeframe: .h1, bars: bars),
                                                      start: t0, end: t0 + 2 * UTCTime.msPerDay)
        #expect(r.expectedBars == 48 && r.presentBars == 46)
        #expect(r.gaps == [Gap(start: t0 + 10 * UTCTime.msPerHour, end: t0 + 12 * UTCTime.msPerHour, missingBars: 2)])
        // Daily stock bars stamped at midnight New York (05:00Z, as Alpaca does) fill their UTC day.
        let daily = [2, 3, 5].map { Bar(timestamp: UTCTime.milliseconds(year: 2024, month: 1, day: $0, hour: 5),
                                        open: 1, high: 1, low: 1, close: 1, volume: 1) }
        let d = GapDetector(calendar: .usEquities).report(BarSeries(symbol: "AAPL", timeframe: .d1, bars: daily),
                                                          start: UTCTime.milliseconds(year: 2024, month: 1, day: 1),
                                                          end: UTCTime.milliseconds(year: 2024, month: 1, day: 6))
        #expect(d.expectedBars == 4 && d.presentBars == 3 && d.barsOutsideSessions == 0)
        #expect(d.gaps.map(\.start) == [UTCTime.milliseconds(year: 2024, month: 1, day: 4)])
    }
}

@Suite struct PipelineTests {
    let hourly: BarSeries
    init() throws { hourly = try CSVBarReader().read(path: Samples.eurusd, symbol: "EURUSD", timeframe: .h1) }

    @Test func fetchUpdateAndServeResampled() async throws {
        let storage = MemoryBarStorage()
        var pipeline = DataPipeline(source: CSVSource(file: Samples.eurusd, symbol: "EURUSD", timeframe: .h1),
                                    storage: storage)
        let mid = hourly.timestamps[2500]
        let endOfData = hourly.timestamps[hourly.count - 1] + UTCTime.msPerHour
        pipeline.now = { endOfData }
        let first = try await pipeline.fetchAndStore(symbol: "EURUSD", timeframe: .h1, start: hourly.timestamps[0], end: mid)
        #expect(first.added == 2500)
        let update = try await pipeline.updateLatest(symbol: "EURUSD", timeframe: .h1)
        #expect(update.added == 2500 && update.fetched == 2500)
        let again = try await pipeline.updateLatest(symbol: "EURUSD", timeframe: .h1)
        #expect(again.added == 0 && again.fetched == 0)
        #expect(try storage.bars(symbol: "EURUSD", timeframe: .h1, start: nil, end: nil) == hourly)
        // A coarser timeframe is resampled from what is stored.
        let daily = try pipeline.getData(symbol: "EURUSD", timeframe: .d1)
        #expect(daily == (try TimeframeTransformer().resample(hourly, to: .d1)))
        let week = try pipeline.getData(symbol: "EURUSD", timeframe: .h4, start: mid, end: mid + 7 * UTCTime.msPerDay)
        #expect(week.timestamps.array == (try TimeframeTransformer().resample(hourly, to: .h4))
            .slice(from: UTCTime.floorDiv(mid, 4 * UTCTime.msPerHour) * 4 * UTCTime.msPerHour,
                   to: mid + 7 * UTCTime.msPerDay).timestamps.array)
        #expect(throws: PipelineError.self) { try pipeline.getData(symbol: "GBPUSD", timeframe: .h1) }
        let report = try pipeline.gapReport(symbol: "EURUSD", timeframe: .h1, calendar: .fx)
        #expect(report.expectedBars > 0 && report.presentBars <= 5000)
    }

    @Test func unfinishedBarsAreNotStored() async throws {
        let storage = MemoryBarStorage()
        var pipeline = DataPipeline(source: CSVSource(file: Samples.eurusd, symbol: "EURUSD", timeframe: .h1),
                                    storage: storage)
        let last = hourly.timestamps[hourly.count - 1]
        pipeline.now = { last + 30 * UTCTime.msPerMinute }   // the last hour is still forming
        let r = try await pipeline.fetchAndStore(symbol: "EURUSD", timeframe: .h1, start: hourly.timestamps[0], end: last + UTCTime.msPerHour)
        #expect(r.fetched == 5000 && r.added == 4999 && r.incomplete == 1)
        // A conflicting bar is refused, not silently overwritten.
        var changed = hourly[0..<1].bars
        changed[0].close += 0.01
        #expect(throws: BarConflict.self) {
            try storage.merge(BarSeries(symbol: "EURUSD", timeframe: .h1, bars: changed), source: "test")
        }
    }

    @Test func csvSourceFindsFilesAndResamples() async throws {
        let source = CSVSource(directory: Samples.root.appendingPathComponent("data/sample").path)
        #expect(try await source.supportedSymbols() == ["EURUSD", "GOOG"])
        let h4 = try await source.fetchOHLCV(symbol: "EURUSD", timeframe: .h4, start: 0, end: Int64.max)
        #expect(h4 == (try TimeframeTransformer().resample(hourly, to: .h4)))
        let last = try await source.latest(symbol: "GOOG", timeframe: .d1, count: 3)
        #expect(last.count == 3)
        await #expect(throws: SourceError.self) {
            _ = try await source.fetchOHLCV(symbol: "GOOG", timeframe: .h1, start: 0, end: 1)
        }
        #expect(CSVSource.parseFileName("EURUSDH1")! == ("EURUSD", .h1))
        #expect(CSVSource.parseFileName("BTC-USD_1Hour")! == ("BTC-USD", .h1))
    }
}
