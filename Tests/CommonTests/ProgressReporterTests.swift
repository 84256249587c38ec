import Foundation
import Testing
@testable import Common

/// ProgressReporter reports: lines when standard error is not a terminal, a redrawn bar on one, nothing for quick work.
@Suite struct ProgressReporterTests {
    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var text: [String] = []
        func append(_ s: String) { lock.withLock { text.append(s) } }
        var lines: [String] { lock.withLock { text } }
    }

    @Test func linesStyleReportsStartAndEnd() {
        let out = Captured()
        var p = ProgressReporter("import X", total: 1000, unit: "rows", style: .lines, delay: 0, interval: 3600,
                         write: { out.append($0) })
        for _ in 0 ..< 1000 { p.step() }
        p.finish()
        let lines = out.lines
        #expect(lines.count == 2, "first report, then the final one (the interval is an hour): \(lines)")
        #expect(lines.first?.hasPrefix("import X: 0% (1/1000 rows") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("import X: 100% (1000/1000 rows") == true, "\(lines)")
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\u{1B}") && !$0.contains("\r") })
    }

    @Test func terminalStyleRedrawsInPlace() {
        let out = Captured()
        var p = ProgressReporter("backtest", total: 10, unit: "bars", style: .terminal, delay: 0, write: { out.append($0) })
        p.update(done: 5)
        p.finish()
        let lines = out.lines
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("\r\u{1B}[2Kbacktest [##########          ]  50% 5/10 bars"), "\(lines)")
        #expect(lines[1].hasPrefix("\r\u{1B}[2Kbacktest [####################] 100% 10/10 bars") && lines[1].hasSuffix("\n"))
    }

    @Test func quickWorkAndDisabledReportNothing() {
        let out = Captured()
        var quick = ProgressReporter("quick", total: 100, style: .lines, delay: 3600, write: { out.append($0) })
        for _ in 0 ..< 100 { quick.step() }
        quick.finish()
        var off = ProgressReporter.disabled
        off.step()
        off.finish()
        #expect(out.lines.isEmpty)
    }

    @Test func durationsAndRates() {
        #expect(ProgressReporter.duration(4.24) == "4.2 s")
        #expect(ProgressReporter.duration(190) == "3 min 10 s")
        #expect(ProgressReporter.duration(7500) == "2 h 05 min")
        #expect(ProgressReporter.compact(1_234_567) == "1.2M" && ProgressReporter.compact(12_345) == "12k" && ProgressReporter.compact(7) == "7.0")
    }
}
