import Common
import Foundation
import MarketData
@testable import Features

/// Paths and loaders shared by the Features tests.
enum TestData {
    /// The repository root (three levels above this file).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func sample(_ name: String) throws -> BarSeries {
        let symbol = String(name.split(separator: "_")[0])
        let tf: Timeframe = name.hasSuffix("D1") ? .d1 : .h1
        return try CSVBarReader().read(path: root.appendingPathComponent("data/sample/\(name).csv").path, symbol: symbol,
                                       timeframe: tf)
    }

    static func fixture(_ path: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil) else {
            throw FeatureError(reason: "missing fixture \(path)")
        }
        return try Data(contentsOf: url)
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        try Subprocess.run(executable, arguments).status
    }

    /// A random-walk bar series with realistic OHLCV structure.
    static func randomWalk(count: Int, seed: UInt64, start: Int64 = 1_600_000_000_000, step: Int64 = 3_600_000,
                           price: Double = 100) -> BarSeries {
        var rng = SplitMix64(seed: seed)
        var ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []
        var p = price
        for i in 0..<count {
            let open = p
            p *= exp(0.01 * rng.normal())
            let close = p
            ts.append(start + Int64(i) * step)
            o.append(open)
            c.append(close)
            h.append(max(open, close) * (1 + 0.004 * rng.uniform()))
            l.append(min(open, close) * (1 - 0.004 * rng.uniform()))
            v.append((1000 + 9000 * rng.uniform()).rounded())
        }
        return BarSeries(symbol: "RW", timeframe: .h1, timestamps: ts, open: o, high: h, low: l, close: c, volume: v)
    }
}

/// Deterministic test randomness on `Common.SplitMix64`.
extension SplitMix64 {
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// Relative error |a − b| / |b| (absolute when b is 0).
func relativeError(_ a: Double, _ b: Double) -> Double {
    if a == b { return 0 }
    return b == 0 ? abs(a - b) : abs(a - b) / abs(b)
}
