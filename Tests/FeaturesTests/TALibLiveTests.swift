import Common
import Foundation
import MarketData
import Testing
@testable import Features

/// "A CSV it has never seen": a freshly generated random-walk daily CSV goes through the same path as
/// `aitrader indicators compute` (BarFile.load -> calculator -> CSV text) and through TA-Lib
/// (tools/reference/talib_fixtures.py --csv); every TA-Lib column must agree. Skipped (reported as a skip) without
/// a reference python that has talib; a failure instead where AITRADER_REQUIRE_REFERENCE=1 (CI).
@Suite struct TALibLiveTests {
    @Test(.enabled(if: ReferencePython.shouldRun(importing: ["talib"]),
                   Comment(rawValue: ReferencePython.unavailableReason(importing: ["talib"]))))
    func unseenCSVMatchesTALib() throws {
        let python = try ReferencePython.requireFind(importing: ["talib"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aitrader-live-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Daily bars with 4-decimal prices and integer volume, as a data vendor writes them.
        let seed = SplitMix64.testSeed()
        let walk = TestData.randomWalk(count: 700, seed: seed, start: 1_262_304_000_000,
                                       step: 86_400_000, price: 50)
        var csv = ",Open,High,Low,Close,Volume\n"
        for i in 0..<walk.count {
            let f = { (x: Double) in String(format: "%.4f", x) }
            csv += "\(UTCTime.plain(walk.timestamps[i], dateOnly: true)),\(f(walk.open[i])),\(f(walk.high[i])),"
                + "\(f(walk.low[i])),\(f(walk.close[i])),\(Int(walk.volume[i]))\n"
        }
        let input = dir.appendingPathComponent("RW_D1.csv").path
        let reference = dir.appendingPathComponent("talib.csv").path
        try csv.write(toFile: input, atomically: true, encoding: .utf8)
        let script = TestData.root.appendingPathComponent("tools/reference/talib_fixtures.py").path
        #expect(try TestData.run(python, [script, "--csv", input, "--out", reference]) == 0)

        let expected = try parse(String(contentsOfFile: reference, encoding: .utf8))
        let bars = try BarFile.load(path: input)
        #expect(bars.timeframe == .d1)
        let frame = try TechnicalIndicatorCalculator().compute(bars, columns: expected.names)
        let ours = try parse(FeatureFrameCSV.text(frame))
        #expect(ours.names == expected.names)
        for (k, name) in expected.names.enumerated() {
            let a = ours.columns[k], b = expected.columns[k]
            let floor = 1e-4 * (b.filter { !$0.isNaN }.map(abs).max() ?? 0)
            var worst = 0.0
            for i in 0..<b.count {
                #expect(a[i].isNaN == b[i].isNaN,
                        "\(name)[\(i)]: NaN mismatch \(a[i]) vs \(b[i]) (AITRADER_TEST_SEED=\(seed))")
                if !b[i].isNaN, a[i] != b[i] { worst = max(worst, abs(a[i] - b[i]) / max(abs(b[i]), floor)) }
            }
            #expect(worst <= 1e-9, "\(name): max rel error \(worst) (AITRADER_TEST_SEED=\(seed))")
        }
    }

    private func parse(_ text: String) throws -> (names: [String], columns: [[Double]]) {
        let lines = text.split(separator: "\n")
        let names = lines[0].split(separator: ",", omittingEmptySubsequences: false).dropFirst().map(String.init)
        var columns = Array(repeating: [Double](), count: names.count)
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).dropFirst()
            for (k, cell) in cells.enumerated() { columns[k].append(cell.isEmpty ? .nan : (Double(cell) ?? .nan)) }
        }
        return (names, columns)
    }
}
