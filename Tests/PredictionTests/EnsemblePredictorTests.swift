import Common
import Engine
import Features
import Foundation
import MarketData
import Models
import Testing
@testable import Prediction

/// The predictor on the EURUSD sample with small seeded checkpoints (1h / 4h / 1d): closed bars only, batched series
/// equal to bar-by-bar calls, symbols batched, outcomes, errors.
@Suite struct EnsemblePredictorTests {
    static let hour: Int64 = 3_600_000

    /// The float32 batching bound of alpha and beta (EnsemblePredictor's documentation): 2 γ_K with K = 512.
    static let networkBound: Double = {
        let u = pow(2.0, -24.0), k = 512.0
        return 2 * k * u / (1 - k * u)
    }()

    /// Two predictions of the same decision that may differ only by batching the networks: identical inputs,
    /// alpha/beta within the bound, what follows within a few times it.
    static func expectSame(_ a: EnsemblePrediction, _ b: EnsemblePrediction, _ context: String) {
        #expect(a.symbol == b.symbol && a.time == b.time && a.regime == b.regime && a.adx == b.adx, "\(context)")
        #expect(a.volatilityPercentile == b.volatilityPercentile && a.weightScale == b.weightScale
                && a.confidenceThreshold == b.confidenceThreshold, "\(context)")
        #expect(a.votes.map(\.featureTime) == b.votes.map(\.featureTime) && a.votes.map(\.timeframe) == b.votes.map(\.timeframe), "\(context)")
        for (u, v) in zip(a.votes, b.votes) {
            #expect(abs(u.alpha - v.alpha) <= networkBound * v.alpha && abs(u.beta - v.beta) <= networkBound * v.beta,
                    "\(context) \(u.modelType): alpha \(u.alpha) vs \(v.alpha), beta \(u.beta) vs \(v.beta)")
            #expect(abs(u.pUp - v.pUp) <= 10 * networkBound && abs(u.weight - v.weight) <= 10 * networkBound, "\(context)")
        }
        let bound = 10 * networkBound
        #expect(abs(a.pUp - b.pUp) <= bound && abs(a.confidence - b.confidence) <= bound && abs(a.agreement - b.agreement) <= bound,
                "\(context): \(a.pUp) vs \(b.pUp), \(a.confidence) vs \(b.confidence)")
        if abs(a.confidence - a.confidenceThreshold) > bound { #expect(a.direction == b.direction, "\(context)") }
    }

    @Test func batchedSeriesEqualsBarByBar() throws {
        let f = try PredictionFixture.get()
        let predictor = try f.predictor()
        // 60 hours ending at the sample's last close: crosses 4h and day boundaries.
        let to = f.end, from = to - 59 * Self.hour
        let series = try predictor.predictSeries(symbol: "EURUSD", from: from, to: to)
        #expect(series.count >= 40)   // weekend hours have no bars
        #expect(series.map(\.time) == series.map(\.time).sorted() && series.first!.time >= from && series.last!.time == to)
        var maxRelative = 0.0
        for p in series {
            let live = try #require(try predictor.predict(symbols: ["EURUSD"], asOf: p.time).first)
            Self.expectSame(live, p, UTCTime.iso8601(p.time))
            #expect(live.dataAge == 0 && p.dataAge == 0)
            for (u, v) in zip(live.votes, p.votes) { maxRelative = max(maxRelative, abs(u.alpha - v.alpha) / v.alpha, abs(u.beta - v.beta) / v.beta) }
        }
        print("predictSeries vs predict(asOf:): \(series.count) decisions, largest alpha/beta relative difference \(maxRelative)")
        // The long model's day bar changes within the range; the medium model's 4h bar several times.
        #expect(Set(series.map { $0.vote(.longTerm)!.featureTime }).count >= 2)
        #expect(Set(series.map { $0.vote(.mediumTerm)!.featureTime }).count >= 8)
    }

    @Test func modelsSeeOnlyClosedBars() throws {
        let f = try PredictionFixture.get()
        let predictor = try f.predictor()
        // 30 minutes after the 13:00 close of the day before the sample ends: the 1h bar of 12:00 is the latest closed one.
        let day = (f.end / (24 * Self.hour) - 1) * 24 * Self.hour   // Tuesday 2018-02-06
        let asOf = day + 13 * Self.hour + 30 * 60_000
        let p = try #require(try predictor.predict(symbols: ["EURUSD"], asOf: asOf).first)
        #expect(p.time == day + 13 * Self.hour && p.dataAge == 30 * 60_000)
        #expect(p.vote(.shortTerm)!.featureTime == day + 13 * Self.hour && p.vote(.shortTerm)!.timeframe == "1h")
        #expect(p.vote(.mediumTerm)!.featureTime == day + 12 * Self.hour)    // the 08:00–12:00 bar; 12:00–16:00 is forming
        #expect(p.vote(.longTerm)!.featureTime == day)                       // yesterday's day bar, closed at midnight
        #expect(p.votes.allSatisfy { $0.featureTime <= p.time })
    }

    /// A store cut at the decision time gives the same prediction bit for bit: nothing after it leaks in (features
    /// are causal, forming bins are dropped).
    @Test func aStoreCutAtTheDecisionTimeGivesTheSamePrediction() throws {
        let f = try PredictionFixture.get()
        let cut = f.end - 30 * Self.hour
        let k = f.bars.index(firstAtOrAfter: cut)          // bars opening before `cut` close by it
        let root = f.directory + "/cut-\(UUID().uuidString)"
        let store = try ParquetBarStore(root: root + "/store")
        _ = try store.write(f.bars[0..<k], source: "test")
        let features = try FeatureStore(root: root, bars: store, configDirectory: f.featureStore.configDirectory)
        var config = EnsembleConfig()
        config.maxDataAgeHours = 0
        let short = try EnsemblePredictor.load(checkpointsDirectory: f.checkpoints, store: features, ensembleConfig: config, backend: .cpu)
        let full = try f.predictor()
        let a = try short.predict(symbols: ["EURUSD"], asOf: cut)[0], b = try full.predict(symbols: ["EURUSD"], asOf: cut)[0]
        #expect(a == b, "\(a)\nvs\n\(b)")
    }

    @Test func symbolsBatchedThroughTheModels() throws {
        let f = try PredictionFixture.get()
        let predictor = try f.predictor()
        let asOf = f.end - 5 * Self.hour
        let both = try predictor.predict(symbols: ["EURUSD", "EURUSD2"], asOf: asOf)
        #expect(both.map(\.symbol) == ["EURUSD", "EURUSD2"])
        Self.expectSame(both[0], try predictor.predict(symbols: ["EURUSD"], asOf: asOf)[0], "EURUSD")
        Self.expectSame(both[1], try predictor.predict(symbols: ["EURUSD2"], asOf: asOf)[0], "EURUSD2")
    }

    @Test func outcomesMoveTheWeightsAndReweightEqualsALaterCall() throws {
        let f = try PredictionFixture.get()
        let predictor = try f.predictor()
        let asOf = f.end - 10 * Self.hour
        let before = try predictor.predict(symbols: ["EURUSD"], asOf: asOf)[0]
        // Whatever each model said, make the short model right and the others wrong 20 times.
        let short = before.vote(.shortTerm)!
        for _ in 0..<20 {
            var p = before
            p.votes = p.votes.map { v in var v = v; v.direction = v.modelType == .shortTerm ? short.direction : -short.direction; return v }
            predictor.recordOutcome(symbol: "EURUSD", prediction: p, realizedReturn: 0.001 * Double(short.direction == 0 ? 1 : short.direction))
        }
        #expect(predictor.weightCalculator.performance(.shortTerm).trades == (short.direction == 0 ? 0 : 20))
        let after = try predictor.predict(symbols: ["EURUSD"], asOf: asOf)[0]
        if short.direction != 0 { #expect(after.vote(.shortTerm)!.baseWeight > before.vote(.shortTerm)!.baseWeight) }
        #expect(predictor.reweight(before) == after)
    }

    @Test func clearErrors() throws {
        let f = try PredictionFixture.get()
        let predictor = try f.predictor()
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try predictor.predict(symbols: ["GBPUSD"], asOf: f.end) }.contains("GBPUSD"))
        let early = message { _ = try predictor.predict(symbols: ["EURUSD"], asOf: f.bars.timestamps[300]) }
        #expect(early.contains("long_term needs 8 closed 1d bars") || early.contains("undefined"), "\(early)")
        // Stale: a clock a year after the data.
        let stale = try f.predictor(now: f.end + 365 * 24 * Self.hour)
        let m = message { _ = try stale.predict(symbols: ["EURUSD"], asOf: nil) }
        #expect(m.contains("EURUSD") && m.contains("365.0 days") && m.contains("max_data_age_hours"), "\(m)")
        #expect(throws: PredictionError.self) { _ = try stale.predict(symbols: ["EURUSD"], asOf: nil) }
        #expect(message { _ = try predictor.predictSeries(symbol: "EURUSD", from: f.end, to: f.end - 1) }.contains("after it ends"))
    }

    @Test func checkpointsThatDoNotFitAreRefusedNamingTheFile() throws {
        let f = try PredictionFixture.get()
        let dir = f.directory + "/bad-\(UUID().uuidString)"
        for m in ModelType.allCases {
            try FileManager.default.createDirectory(atPath: dir + "/" + m.rawValue, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: f.checkpoints + "/\(m.rawValue)/best.safetensors", toPath: dir + "/\(m.rawValue)/best.safetensors")
        }
        func load() -> String {
            do { _ = try EnsemblePredictor.load(checkpointsDirectory: dir, store: f.featureStore, backend: .cpu); return "" }
            catch { return "\(error)" }
        }
        let medium = dir + "/medium_term/best.safetensors"
        try f.writeCheckpoint(.mediumTerm, seed: 1, to: medium) { $0.extra["feature_config_hash"] = "0123abcd" }
        #expect(load().contains(medium) && load().contains("feature_config_hash 0123abcd"), "\(load())")
        try f.writeCheckpoint(.mediumTerm, seed: 1, to: medium) { $0.extra["timeframe"] = nil }
        #expect(load().contains(medium) && load().contains("timeframe"), "\(load())")
        try f.writeCheckpoint(.mediumTerm, seed: 1, to: medium) { $0.scaler = nil }
        #expect(load().contains(medium) && load().contains("scaler"), "\(load())")
        // The short model's checkpoint where the medium one belongs.
        try FileManager.default.removeItem(atPath: medium)
        try FileManager.default.copyItem(atPath: f.checkpoints + "/short_term/best.safetensors", toPath: medium)
        #expect(load().contains(medium) && load().contains("is a short_term checkpoint"), "\(load())")
        try FileManager.default.removeItem(atPath: dir + "/medium_term")
        #expect(load().contains("medium_term") && load().contains("no medium_term checkpoints"), "\(load())")
        #expect(throws: PredictionError.self) {
            _ = try EnsemblePredictor.load(checkpointsDirectory: dir + "/nowhere", store: f.featureStore, backend: .cpu)
        }
    }

    @Test func theBestCheckpointIsChosenAsTrainingNamesThem() throws {
        let f = try PredictionFixture.get()
        let dir = f.directory + "/pick-\(UUID().uuidString)/short_term"
        for (epoch, loss) in [(3, "0.70"), (5, "0.66"), (7, "0.66")] {
            try f.writeCheckpoint(.shortTerm, seed: 2, to: dir + String(format: "/epoch-%04d.safetensors", epoch)) {
                $0.extra["val_loss"] = loss
                $0.extra["epoch"] = String(epoch)
            }
        }
        try f.writeCheckpoint(.shortTerm, seed: 2, to: dir + "/last.safetensors") { $0.extra["val_loss"] = "0.50" }
        #expect(try EnsembleCheckpoints.best(in: dir, model: .shortTerm) == dir + "/epoch-0007.safetensors")
        try f.writeCheckpoint(.shortTerm, seed: 2, to: dir + "/best.safetensors")
        #expect(try EnsembleCheckpoints.best(in: dir, model: .shortTerm) == dir + "/best.safetensors")
    }

    @Test func closeTimesFollowTheCalendar() {
        let monday = UTCTime.milliseconds(year: 2024, month: 1, day: 1)
        #expect(SymbolHistory.closeTime(open: monday, .d1, bins: .utc) == monday + 24 * Self.hour)
        #expect(SymbolHistory.closeTime(open: monday, .w1, bins: .utc) == monday + 7 * 24 * Self.hour)
        #expect(SymbolHistory.closeTime(open: monday, .mn1, bins: .utc) == UTCTime.milliseconds(year: 2024, month: 2, day: 1))
        #expect(SymbolHistory.closeTime(open: monday + 4 * Self.hour, .h4, bins: .utc) == monday + 8 * Self.hour)
    }

    /// The volatility percentile computed for one bar equals the one from the whole series' values, and ADX over the
    /// fixed window ignores bars before it.
    @Test func marketConditionsAreFixedWindowFunctions() throws {
        let f = try PredictionFixture.get()
        let c = MarketConditionsCalculator(config: EnsembleConfig())
        let close = f.bars.close.array, high = f.bars.high.array, low = f.bars.low.array
        let all = close.indices.map { c.realisedVolatility(close: close, at: $0) }
        for t in [0, 19, 20, 21, 300, close.count - 1] {
            #expect(c.volatilityPercentile(all, at: t) == c.volatilityPercentile(close: close, at: t), "bar \(t)")
        }
        let t = close.count - 1
        let cut = close.count - 150
        #expect(c.adx(high: high, low: low, close: close, at: t)
                == c.adx(high: Array(high[cut...]), low: Array(low[cut...]), close: Array(close[cut...]), at: 149))
        #expect(c.adx(high: high, low: low, close: close, at: 10) == nil)
        let v = try #require(c.volatilityPercentile(close: close, at: t))
        #expect(v > 0 && v <= 1)
    }
}
