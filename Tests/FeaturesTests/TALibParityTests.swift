import Foundation
import MarketData
import Testing
@testable import Features

/// Every TA-Lib indicator against TA-Lib's own output on both bundled samples (fixtures written by
/// tools/reference/talib_fixtures.py): same warm-up (NaN rows), every later row within 1e-9 relative.
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
            #expect(worst <= Self.tolerance,
                    "\(sample) \(column.name): max rel error \(worst) at row \(worstRow) (ours \(ours[max(worstRow, 0)]))")
            report.append("\(column.name)=\(String(format: "%.2g", worst))")
        }
        print("TA-Lib parity \(sample): " + report.joined(separator: " "))
    }
}
