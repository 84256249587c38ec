import Foundation
import MarketData
import Models
import Risk
@testable import Robot
import Simulation
import Trading

/// Shared pieces of the robot tests: the bundled EURUSD sample and a deterministic stand-in for the ensemble.
enum RobotFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func eurusd(bars: Int = 1_200) throws -> BarSeries {
        let all = try CSVBarReader().read(path: root + "/data/sample/EURUSD_H1.csv", symbol: "EURUSD", timeframe: .h1)
        return all[0..<min(bars, all.count)]
    }

    /// A risk profile that trades often enough to exercise every path.
    static let profile = RiskProfile(
        name: "test", positionFraction: 1, maxLeverage: 30, stopATRMultiple: 1.5, riskPerTrade: 0.01, maxPositions: 3,
        maxExposure: 30, dailyLossLimit: 0.05, maxDrawdown: 0.25, minConfidence: 0.55, kellyFraction: 0.5,
        takeProfitATRMultiple: 2.5, maxConsecutiveLosses: 6, maxOrdersPerMinute: 20)

    static func settings(_ symbols: [String] = ["EURUSD"], profile: RiskProfile = profile) -> RobotSettings {
        RobotSettings(symbols: symbols, profile: profile)
    }

    static let models = ExecutionModels(slippage: .fixedBps(0.5), commission: .fractionOfNotional(0.00002), maxLeverage: 30)
}

/// A deterministic ensemble stand-in: p_up from a hash of (symbol, time), a direction when it is 0.05 from 0.5.
struct SyntheticPredictions: PredictionSource {
    var bias = 0.0

    func prediction(_ symbol: String, _ time: Int64) -> EnsemblePrediction {
        var h = UInt64(bitPattern: time) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(symbol.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        let u = Double(h % 10_000) / 10_000
        let p = min(0.95, max(0.05, 0.3 + 0.4 * u + bias))
        let confidence = abs(2 * p - 1)
        return EnsemblePrediction(symbol: symbol, time: time, pUp: p, alpha: 4 * p, beta: 4 * (1 - p), confidence: confidence,
                                  direction: confidence > 0.1 ? (p > 0.5 ? 1 : -1) : 0, agreement: 1, disagreementPenalty: 0,
                                  confidenceThreshold: 0.1, regime: .unknown, volatilityPercentile: 0.5, votes: [], dataAge: 0)
    }

    func predictions(symbols: [String], at time: Int64) throws -> [String: EnsemblePrediction] {
        Dictionary(uniqueKeysWithValues: symbols.map { ($0, prediction($0, time)) })
    }

    func recordOutcome(symbol: String, prediction: EnsemblePrediction, realizedReturn: Double) {}
}

func temporaryPath(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "aitrader-robot-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir + "/" + name
}
