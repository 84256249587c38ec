import Foundation
import MarketData
import Testing
@testable import Features

/// Every TA-Lib indicator against TA-Lib's own output on both bundled samples (fixtures written by
/// tools/reference/talib_fixtures.py): same warm-up (NaN rows), every later row within 1e-9 relative. Also
/// Keltner channels (TA-Lib EMA ± 2·ATR) and SuperTrend (TradingView's definition on TA-Lib's ATR, written out in
/// the script), line and direction, within `channelTolerance`.
///
/// Relative error is |ours − TA-Lib| / max(|TA-Lib|, 1e-4 · max|column|): plain relative error, except for values
/// that are numerically zero compared with the column's scale (e.g. a STOCHRSI %D of 1e-15 that is 0 in exact
/// arithmetic), where rounding noise of either side would otherwise count as a 100% error. TA-Lib's C library is
/// built with fused multiply-adds, so last-ulp differences are expected; everything else is equal by construction.
@Suite struct TALibParityTests {
    struct Index: Decodable {
        struct Column: Decodable { let name: String; let first_valid: Int; let count: Int; let offset: Int }
        struct Sample: Decodable { let rows: Int; let columns: [Column] }
        let samples: [String: Sample]
    }

    static let tolerance = 1e-9

    /// Keltner and SuperTrend (reference built in talib_fixtures.py on TA-Lib's EMA and ATR): the same
    /// operations on values that differ only by the EMA's and ATR's rounding. Those are recursions that shrink an
    /// error by (n−1)/n (Wilder) or 1 − 2/(n+1) (EMA) per bar while each bar adds ≤ 2u (u = 2⁻⁵³; FMA or not), so
    /// they stay within 2(n+1)·u ≈ 5e-15 relative for n = 20; a band mid ± k·ATR adds k times that of ATR ≤ |band|
    /// plus 2u: < 2e-14. 1e-13 leaves a factor 5. SuperTrend's direction compares close with a band: equal unless a
    /// close lies within that error of a band, so directions (and hence lines) must agree exactly.
    static let channelTolerance = 1e-13

    static func tolerance(for column: String) -> Double {
        column.hasPrefix("keltner_") || column.hasPrefix("supertrend") ? channelTolerance : tolerance
    }

    @Test(arguments: ["EURUSD_H1", "GOOG_D1"])
    func matchesTALib(sample: String) throws {
        let index = try JSONDecoder().decode(Index.self, from: TestData.fixture("talib/index.json"))
        let entry = try #require(index.samples[sample])
        let blob = try TestData.fixture("talib/\(sample).bin")
        let bars = try TestData.sample(sample)
        #expect(bars.count == entry.rows)
        let frame = try TechnicalIndicatorCalculator().compute(bars, columns: entry.columns.map(\.name))
        var report: [String] = []
        for column in entry.columns {
            let ours = try #require(frame[column.name], "missing \(column.name)")
            let lookback = frame.lookbacks[frame.names.firstIndex(of: column.name)!]
            #expect(lookback == column.first_valid, "\(sample) \(column.name): lookback \(lookback) vs TA-Lib \(column.first_valid)")
            for i in 0..<column.first_valid where !ours[i].isNaN {
                Issue.record("\(sample) \(column.name)[\(i)] = \(ours[i]) during TA-Lib's warm-up")
                break
            }
            let expected: [Double] = blob.withUnsafeBytes { raw in
                (0..<column.count).map { raw.loadUnaligned(fromByteOffset: column.offset + 8 * $0, as: Double.self) }
            }
            let floor = 1e-4 * (expected.map(abs).max() ?? 0)
            var worst = 0.0, worstRow = -1
            for (k, value) in expected.enumerated() {
                let a = ours[column.first_valid + k]
                let e = a == value ? 0 : abs(a - value) / max(abs(value), floor)
                if !(e <= worst) { worst = e; worstRow = column.first_valid + k }
            }
            #expect(worst <= Self.tolerance(for: column.name),
                    "\(sample) \(column.name): max rel error \(worst) at row \(worstRow) (ours \(ours[max(worstRow, 0)]))")
            report.append("\(column.name)=\(String(format: "%.2g", worst))")
        }
        print("TA-Lib parity \(sample): " + report.joined(separator: " "))
    }
}
