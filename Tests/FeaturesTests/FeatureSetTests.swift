import Common
import Foundation
import MarketData
import Testing
@testable import Features

@Suite struct FeatureSetTests {
    static let directory = TestData.root.appendingPathComponent("configs/features").path

    @Test(arguments: ModelKind.allCases)
    func shippedConfigsLoadAndCompute(model: ModelKind) throws {
        let set = try FeatureSet.load(model: model, directory: Self.directory)
        #expect(set.model == model)
        #expect(set.features.count >= 20)
        let bars = try TestData.sample(model == .longTerm ? "GOOG_D1" : "EURUSD_H1")
        let frame = set.compute(bars)
        #expect(frame.names == set.names)
        #expect(frame.maxLookback == set.lookback)
        let usable = frame.droppingWarmup()
        #expect(usable.count == bars.count - set.lookback)
        for (k, column) in usable.columns.enumerated() {
            #expect(column.allSatisfy { $0.isFinite }, "\(usable.names[k]) has non-finite values after warm-up")
        }
        if model == .mediumTerm { #expect(set.features.count == 32) }
    }

    @Test func transformsExpressPriceLevelsAgainstTheClose() throws {
        let bars = TestData.randomWalk(count: 200, seed: 5)
        let root = try YAMLNode.parse("""
            model: medium_term
            features:
              - sma_20
              - {indicator: sma_20, transform: relative_to_close}
              - {indicator: atr_14, transform: divide_by_close}
            """, file: "t.yaml")
        let set = try FeatureSet.parse(root)
        #expect(set.names == ["sma_20", "sma_20:rel", "atr_14:pc"])
        let frame = set.compute(bars)
        let c = bars.close[100]
        #expect(abs(frame["sma_20:rel"]![100] - (frame["sma_20"]![100] / c - 1)) < 1e-15)
        #expect(set.label == LabelSpec())
        #expect(set.configHash.count == 64)
    }

    @Test func configErrorsNameFileLineAndProblem() throws {
        func error(_ text: String) -> String {
            do {
                _ = try FeatureSet.parse(YAMLNode.parse(text, file: "bad.yaml"))
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("model: short_term\nfeatures:\n  - rsi_14\n  - rsx_3\n").hasPrefix("bad.yaml:4:5: unknown indicator 'rsx_3'"))
        #expect(error("model: mid\nfeatures: [rsi_14]\n").contains("unknown model 'mid'"))
        #expect(error("model: short_term\nfeatures: [bbands_20_2]\n").contains("names 5 outputs"))
        #expect(error("model: short_term\nfeatures: [rsi_14, rsi]\n").contains("listed twice"))
        #expect(error("model: short_term\nfeatures:\n  - {indicator: rsi_14, transform: log}\n").contains("unknown transform 'log'"))
        #expect(error("model: short_term\nfeatures: [rsi_14]\nlabel: {horizon: 0}\n").contains("horizon must be >= 1"))
        #expect(error("model: short_term\nfeatur: [rsi_14]\n").contains("unknown key"))
    }

    @Test func profilesMapEachModelToATimeframe() throws {
        let profiles = try TradingProfile.load(path: Self.directory + "/profiles.yaml")
        #expect(profiles.map(\.name) == ["scalper", "trader", "investor"])
        let scalper = try TradingProfile.named("scalper", in: profiles)
        #expect([scalper.timeframe(for: .shortTerm), scalper.timeframe(for: .mediumTerm), scalper.timeframe(for: .longTerm)]
                == [.m5, .m15, .h1])
        let trader = try TradingProfile.named("trader", in: profiles)
        #expect([trader.timeframe(for: .shortTerm), trader.timeframe(for: .mediumTerm), trader.timeframe(for: .longTerm)]
                == [.h1, .h4, .d1])
        let investor = try TradingProfile.named("investor", in: profiles)
        #expect([investor.timeframe(for: .shortTerm), investor.timeframe(for: .mediumTerm), investor.timeframe(for: .longTerm)]
                == [.d1, .d1, .w1])
        #expect(throws: FeatureError.self) { try TradingProfile.named("whale", in: profiles) }
        #expect(throws: Error.self) { try TradingProfile.parse(YAMLNode.parse("profiles:\n  x: {short_term: 7m, medium_term: 1h, long_term: 1d}\n")) }
    }
}
