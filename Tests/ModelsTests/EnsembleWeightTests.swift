import Common
import Foundation
import Testing
@testable import Models

/// DynamicWeightCalculator's rules (trending / ranging / unknown, high volatility, the lookback record) and the
/// ensemble config's YAML (defaults, file:line errors).
@Suite struct EnsembleWeightTests {
    static func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } ?? false }

    @Test func regimeWeightsFollowTheADXThreshold() {
        let calc = DynamicWeightCalculator(config: EnsembleConfig())
        let trending = calc.decide(MarketConditions(adx: 31, volatilityPercentile: 0.4))
        #expect(trending.regime == .trending)
        #expect(Self.close(trending.weights[.shortTerm], 0.30) && Self.close(trending.weights[.mediumTerm], 0.35)
                && Self.close(trending.weights[.longTerm], 0.35))
        #expect(trending.weightScale == 1 && !trending.highVolatility && Self.close(trending.confidenceThreshold, 0.05))
        let ranging = calc.decide(MarketConditions(adx: 24.99, volatilityPercentile: 0.4))
        #expect(ranging.regime == .ranging && Self.close(ranging.weights[.shortTerm], 0.5) && Self.close(ranging.weights[.longTerm], 0.2))
        #expect(calc.decide(MarketConditions(adx: 25, volatilityPercentile: 0.1)).regime == .trending)   // at the threshold
        let unknown = calc.decide(MarketConditions())
        #expect(unknown.regime == .unknown && Self.close(unknown.weights[.shortTerm], 0.40) && unknown.volatilityPercentile == 0.5)
    }

    @Test func regimeHeadDecidesWhenGivenAndAllowed() {
        let calc = DynamicWeightCalculator(config: EnsembleConfig())
        #expect(calc.decide(MarketConditions(adx: 10, regimeConcentrations: [3, 2, 1])).regime == .trending)
        #expect(calc.decide(MarketConditions(adx: 40, regimeConcentrations: [1, 1, 3])).regime == .ranging)
        var config = EnsembleConfig()
        config.regime.source = .adx
        #expect(DynamicWeightCalculator(config: config).decide(MarketConditions(adx: 10, regimeConcentrations: [3, 2, 1])).regime == .ranging)
    }

    @Test func highVolatilityScalesWeightsDownAndRaisesTheThreshold() {
        let calc = DynamicWeightCalculator(config: EnsembleConfig())
        let high = calc.decide(MarketConditions(adx: 30, volatilityPercentile: 0.8))
        #expect(high.highVolatility && high.weightScale == 0.7 && Self.close(high.confidenceThreshold, 0.10))
        #expect(Self.close(high.weights[.longTerm], 0.35))   // the relative weights keep the regime's
        #expect(!calc.decide(MarketConditions(adx: 30, volatilityPercentile: 0.79)).highVolatility)
        // Through the combiner: the same votes, 0.7 × the confidence, a higher bar.
        let f = [HorizonForecast(modelType: .shortTerm, alpha: 9, beta: 4, featureTime: 0, timeframe: "1h"),
                 HorizonForecast(modelType: .mediumTerm, alpha: 8, beta: 5, featureTime: 0, timeframe: "4h"),
                 HorizonForecast(modelType: .longTerm, alpha: 7, beta: 5, featureTime: 0, timeframe: "1d")]
        let e = TechnicalEnsemble()
        let normal = e.combine(symbol: "X", time: 0, forecasts: f, decision: calc.decide(MarketConditions(adx: 30, volatilityPercentile: 0.5)), dataAge: 0)
        let stressed = e.combine(symbol: "X", time: 0, forecasts: f, decision: high, dataAge: 0)
        #expect(abs(stressed.confidence - 0.7 * normal.confidence) < 1e-15 && stressed.pUp == normal.pUp)
        #expect(stressed.confidenceThreshold > normal.confidenceThreshold && stressed.volatilityPercentile == 0.8)
    }

    @Test func recentAccuracyMovesWeightTowardTheModelThatIsRight() {
        var calc = DynamicWeightCalculator(baseWeights: EnsembleConfig().baseWeights, lookbackTrades: 50)
        for i in 0..<60 {
            let r = i % 2 == 0 ? 0.002 : -0.001
            calc.record(model: .shortTerm, direction: r > 0 ? 1 : -1, realizedReturn: r)     // always right
            calc.record(model: .longTerm, direction: r > 0 ? -1 : 1, realizedReturn: r)      // always wrong
        }
        calc.record(model: .mediumTerm, direction: 0, realizedReturn: 0.01)                  // no direction: not scored
        calc.record(model: .mediumTerm, direction: 1, realizedReturn: 0)                     // no move: not scored
        calc.record(model: .mediumTerm, direction: 1, realizedReturn: .nan)
        #expect(calc.performance(.shortTerm).trades == 50 && calc.performance(.mediumTerm).trades == 0)
        let short = calc.performance(.shortTerm), long = calc.performance(.longTerm)
        // 50 hits of 50, k = 10: accuracy edge 2·55/60 − 1 = 0.8333, P&L edge 1·50/60 = 0.8333 -> 1.8333
        #expect(abs(short.multiplier - (1 + 5.0 / 6)) < 1e-12 && short.accuracy == 1)
        #expect(abs(long.multiplier - 0.25) < 1e-12)   // 1 − 0.8333 clamped at min_multiplier
        #expect(calc.performance(.mediumTerm).multiplier == 1)
        let d = calc.decide(MarketConditions(adx: 10))   // ranging 0.5 / 0.3 / 0.2
        let raw = [0.5 * (1 + 5.0 / 6), 0.3, 0.2 * 0.25]
        #expect(Self.close(d.weights[.shortTerm], raw[0] / raw.reduce(0, +)) && Self.close(d.weights[.longTerm], raw[2] / raw.reduce(0, +)))
        // The lookback forgets: 50 wrong calls replace the 50 right ones.
        for _ in 0..<50 { calc.record(model: .shortTerm, direction: 1, realizedReturn: -0.001) }
        #expect(calc.performance(.shortTerm).hits == 0 && calc.performance(.shortTerm).trades == 50)
    }

    @Test func configFileLoadsAndErrorsNameTheLine() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try EnsembleConfig.load(path: root.appendingPathComponent("configs/ensemble.yaml").path)
        #expect(shipped == EnsembleConfig())   // the file states the defaults
        let custom = try EnsembleConfig(yaml: YAMLNode.parse("""
            regime:
              adx_threshold: 20
              weights:
                trending: {short_term: 1, medium_term: 1, long_term: 2}
            volatility: {high_percentile: 0.9}
            min_confidence: 0.1
            """))
        #expect(custom.regime.adxThreshold == 20 && custom.regime.trending[.longTerm] == 2 && custom.volatility.highPercentile == 0.9)
        #expect(custom.minConfidence == 0.1 && custom.regime.ranging == EnsembleConfig().regime.ranging)
        func problem(_ text: String) -> String {
            do { _ = try EnsembleConfig(yaml: YAMLNode.parse(text, file: "ensemble.yaml")); return "" } catch { return "\(error)" }
        }
        #expect(problem("min_confidence: 2\n").hasPrefix("ensemble.yaml:1:"))
        #expect(problem("min_confidence: 2\n").contains("min_confidence"))
        #expect(problem("regime:\n  adx_treshold: 20\n").contains("ensemble.yaml:2:") && problem("regime:\n  adx_treshold: 20\n").contains("unknown key"))
        #expect(problem("base_weights: {short_term: 1, medium_term: 1}\n").contains("long_term"))
        #expect(problem("base_weights: {short_term: -1, medium_term: 1, long_term: 1}\n").contains(">= 0"))
        #expect(problem("regime: {source: head}\n").contains("auto, adx"))
        #expect(problem("volatility: {timeframe_of: hourly}\n").contains("unknown model 'hourly'"))
        #expect(problem("regime: {adx_period: 14, adx_bars: 20}\n").contains("adx_bars"))
    }
}
