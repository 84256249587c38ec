import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader robot run --monitor-port 0`: the address on standard error, Prometheus metrics and /health served
/// while the robot runs, the server gone when it ends.
@Suite(.serialized) struct CLIRobotMonitorTests {
    static func get(_ url: String) -> (Int, String)? {
        guard let u = URL(string: url) else { return nil }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        URLSession.shared.dataTask(with: URLRequest(url: u, timeoutInterval: 5)) { data, response, _ in
            if let http = response as? HTTPURLResponse { result = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self)) }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        return result
    }

    @Test func theRobotServesItsMetricsWhileItRuns() throws {
        let (dir, predictions) = try CLIRobotTests.prepare()
        guard let executable = CLI.executable else { Issue.record("the aitrader executable is not built"); return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = CLIRobotTests.arguments(dir, predictions, session: dir + "/m")
            + ["--max-cycles", "80", "--speed", "36000", "--monitor-port", "0"]
        process.currentDirectoryURL = CLI.root
        let errPath = dir + "/stderr.txt"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let errHandle = try #require(FileHandle(forWritingAtPath: errPath))
        defer { try? errHandle.close() }   // Foundation's Process would keep it open while it lives
        process.standardError = errHandle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }

        var base: String?
        let deadline = Date().addingTimeInterval(30)
        while base == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) { base = String(text[r]) }
            usleep(20_000)
        }
        let address = try #require(base, "no monitoring address on standard error")
        var cycles = 0.0
        while cycles < 1, Date() < deadline, process.isRunning {
            if let (code, text) = Self.get(address + "/metrics"), code == 200 {
                cycles = sample(text, "aitrader_robot_cycles_total") ?? 0
                #expect(text.contains("# TYPE aitrader_robot_equity gauge"))
            }
            usleep(50_000)
        }
        #expect(cycles >= 1, "no cycle counted while the robot ran")
        if process.isRunning, let health = Self.get(address + "/health") {
            #expect(health.0 == 200 || health.1.contains("breaker"), "\(health)")
        }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(Self.get(address + "/metrics") == nil, "the server outlived the robot")

        let busy = try CLI.run(CLIRobotTests.arguments(dir, predictions, session: dir + "/n") + ["--max-cycles", "1", "--monitor-port", "70000"])
        #expect(busy.status == 64 && busy.stderr.contains("--monitor-port"), "\(busy)")
    }
}

/// The value of one sample line of a Prometheus exposition.
private func sample(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") { return Double(line.dropFirst(series.count + 1)) }
    return nil
}
