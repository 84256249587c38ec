import Common
import Foundation
import MarketData
import Robot
import TestSupport
import Testing
import Venues
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader deploy --mode paper --broker alpaca` end to end against the fake Alpaca broker
/// (integrations/alpaca/testing) replaying the EURUSD sample at an accelerated clock: a day of bars traded, then the
/// journal, the fake's books and the robot's positions must agree, and the secret must appear nowhere.
@Suite(.serialized, .enabled(if: PythonServer.shouldRun, "python3 is not on PATH"))
struct CLIDeployTests {
    static let secret = "deploy-secret-7c1e55d0b4"
    static let key = "PKDEPLOYTEST9"

    struct Fake {
        let server: PythonServer
        var base: String { "http://127.0.0.1:\(server.port)" }
        var environment: [String: String] {
            ["APCA_API_BASE_URL": base, "APCA_API_DATA_URL": base, "APCA_API_TRADING_STREAM_URL": "ws://127.0.0.1:\(server.port)/stream",
             "ALPACA_REQUESTS_PER_MINUTE": "1000000"]
        }

        func control(_ path: String, _ body: Any) async throws {
            _ = try await HTTPClient(timeout: 30).send("POST", base + path, body: try JSONSerialization.data(withJSONObject: body))
        }

        func state() async throws -> [String: Any] {
            let r = try await HTTPClient(timeout: 30).get(base + "/_fake/state")
            return try JSONSerialization.jsonObject(with: r.body) as? [String: Any] ?? [:]
        }
    }

    static func startFake(start: String, barsPerSecond: Double, extra: [String] = []) throws -> Fake {
        let server = try #require(try PythonServer.start(
            script: CLI.root.path + "/integrations/alpaca/testing/fake_alpaca_broker.py",
            arguments: ["--bars", CLI.root.path + "/data/sample/EURUSD_H1.csv", "--symbol", "EURUSD", "--start", start,
                        "--bars-per-second", "\(barsPerSecond)", "--rate-limit", "1000000", "--lifetime", "600"] + extra,
            environment: ["FAKE_ALPACA_KEY": key, "FAKE_ALPACA_SECRET": secret]))
        return Fake(server: server)
    }

    static func arguments(_ dir: String, _ predictions: String, session: String, until: String) -> [String] {
        ["deploy", "--mode", "paper", "--broker", "alpaca", "--symbol", "EURUSD", "--predictions", predictions,
         "--timeframe", "1h", "--risk-profile", "aggressive", "--session", session, "--data-root", dir,
         "--poll-interval", "0.02", "--until", until]
    }

    @Test func aPaperDayAgainstTheFakeEndsWithJournalBrokerAndPositionsInAgreement() async throws {
        let (dir, predictions) = try CLIRobotTests.prepare()
        let fake = try Self.startFake(start: "2017-05-08T00:00:00Z", barsPerSecond: 6)
        defer { fake.server.stop() }
        // Credentials from a private file; the endpoints from the environment, as Alpaca's SDKs read them.
        let credentials = dir + "/alpaca.env"
        try "APCA_API_KEY_ID=\(Self.key)\nAPCA_API_SECRET_KEY=\(Self.secret)\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: credentials)
        let session = dir + "/paper"
        let run = try CLI.run(Self.arguments(dir, predictions, session: session, until: "2017-05-09T00:00:00Z")
                              + ["--credentials", credentials], environment: fake.environment, timeout: 240)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("aitrader deploy: paper on alpaca") && run.stdout.contains("broker: Alpaca paper"))
        #expect(run.stdout.contains("start-up reconciliation: journal and broker agreed"))

        let journal = try RobotJournal(path: session + "/journal.sqlite")
        let state = try await fake.state()
        let brokerOrders = state["orders"] as? [[String: Any]] ?? []
        let byID = Dictionary(brokerOrders.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        // The broker's orders under our ids (legs named after their parent, as the robot names them).
        var brokerIDs = Set<String>()
        for o in brokerOrders {
            let id = o["client_order_id"] as? String ?? ""
            if let parent = (o["parent_id"] as? String).flatMap({ byID[$0] }) {
                let suffix = ["stop", "stop_limit"].contains(o["type"] as? String ?? "") ? "-sl" : "-tp"
                brokerIDs.insert((parent["client_order_id"] as? String ?? "") + suffix)
            } else {
                brokerIDs.insert(id)
            }
        }
        let sent = try journal.orders().filter { !$0.isPendingSend && $0.status != "abandoned" && !($0.venueOrderID ?? "").isEmpty }
        #expect(!sent.isEmpty, "the robot traded")
        #expect(Set(sent.map(\.clientOrderID)).isSubset(of: brokerIDs), "0 lost")
        #expect(brokerIDs.isSubset(of: Set(try journal.orders().map(\.clientOrderID))), "0 duplicated or unknown")
        let brokerFills = Set((state["fills"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(Set(try journal.fills().map(\.fillID)) == brokerFills)
        let status = try RobotJSON.decoder.decode(RobotStatus.self, from: Data(try #require(try journal.session("status")).utf8))
        let brokerPositions = (state["positions"] as? [[String: Any]] ?? []).map { (($0["symbol"] as? String) ?? "", Double($0["qty"] as? String ?? "") ?? .nan) }
        #expect(status.positions.map { [$0.symbol: $0.quantity] } == brokerPositions.map { [$0.0: $0.1] })
        #expect((state["counters"] as? [String: Any])?["orders_by_client_id_duplicates"] as? Int == 0)

        // The secret is nowhere: output, journal, session files.
        #expect(!run.stdout.contains(Self.secret) && !run.stderr.contains(Self.secret) && !run.stdout.contains(Self.key))
        for name in try FileManager.default.contentsOfDirectory(atPath: session) {
            let data = try Data(contentsOf: URL(fileURLWithPath: session + "/" + name))
            #expect(data.range(of: Data(Self.secret.utf8)) == nil, "\(name) holds the secret")
        }
        // The same command resumes (nothing left to trade before --until) and reconciles cleanly.
        let before = try journal.orders().count
        let again = try CLI.run(Self.arguments(dir, predictions, session: session, until: "2017-05-09T00:00:00Z")
                                + ["--credentials", credentials, "--quiet"], environment: fake.environment, timeout: 120)
        #expect(again.status == 0, "\(again)")
        #expect(try journal.orders().count == before)
    }

    @Test func productionNeedsConfirmationAndSecretsNeedAPrivateFile() async throws {
        let (dir, predictions) = try CLIRobotTests.prepare()
        let env = ["APCA_API_KEY_ID": Self.key, "APCA_API_SECRET_KEY": Self.secret, "APCA_API_BASE_URL": "http://127.0.0.1:9"]
        let production = try CLI.run(["deploy", "--mode", "production", "--broker", "alpaca", "--symbol", "EURUSD",
                                      "--predictions", predictions, "--data-root", dir], environment: env)
        #expect(production.status == 64 && production.stderr.contains("--confirm"), "\(production)")
        let open = dir + "/open.env"
        try "APCA_API_SECRET_KEY=\(Self.secret)\n".write(toFile: open, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: open)
        let refused = try CLI.run(Self.arguments(dir, predictions, session: dir + "/s", until: "2017-05-09") + ["--credentials", open],
                                  environment: env)
        #expect(refused.status == 1 && refused.stderr.contains("chmod 600") && !refused.stderr.contains(Self.secret), "\(refused)")
        // Paper against Alpaca's live endpoint is refused; a broker that cannot be reached is named, nothing journaled.
        let live = try CLI.run(Self.arguments(dir, predictions, session: dir + "/s", until: "2017-05-09"),
                               environment: env.merging(["APCA_API_BASE_URL": "https://api.alpaca.markets"]) { _, b in b })
        #expect(live.status == 1 && live.stderr.contains("live endpoint"), "\(live)")
        let down = try CLI.run(Self.arguments(dir, predictions, session: dir + "/s", until: "2017-05-09"), environment: env, timeout: 120)
        #expect(down.status == 1 && down.stderr.contains("alpaca-paper"), "\(down)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/s/journal.sqlite"))
        #expect(!(down.stderr + live.stderr + production.stderr).contains(Self.secret))
    }

    /// Our ids for the broker's orders (legs named after their parent, as the robot names them).
    static func brokerOrdersByOurID(_ state: [String: Any]) -> [String: [String: Any]] {
        let orders = state["orders"] as? [[String: Any]] ?? []
        let byVenueID = Dictionary(orders.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String: [String: Any]] = [:]
        for o in orders {
            if let parent = (o["parent_id"] as? String).flatMap({ byVenueID[$0] }) {
                let suffix = ["stop", "stop_limit"].contains(o["type"] as? String ?? "") ? "-sl" : "-tp"
                out[(parent["client_order_id"] as? String ?? "") + suffix] = o
            } else {
                out[o["client_order_id"] as? String ?? ""] = o
            }
        }
        return out
    }

    @Test func aStopThatFillsWhileTheRobotIsDownIsFoundAtRestart() async throws {
        let (dir, predictions) = try CLIRobotTests.prepare()
        let fake = try Self.startFake(start: "2017-05-08T00:00:00Z", barsPerSecond: 0)     // step mode: the test moves the market
        defer { fake.server.stop() }
        let env = fake.environment.merging(["APCA_API_KEY_ID": Self.key, "APCA_API_SECRET_KEY": Self.secret]) { _, b in b }
        let session = dir + "/down"
        let arguments = Self.arguments(dir, predictions, session: session, until: "2017-06-01T00:00:00Z") + ["--quiet"]
        // The robot runs in the background; the market moves one bar at a time until it holds a bracketed position.
        let robot = Process()
        robot.executableURL = URL(fileURLWithPath: try #require(CLI.executable))
        robot.arguments = arguments
        robot.currentDirectoryURL = CLI.root
        robot.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
        robot.standardOutput = FileHandle.nullDevice
        robot.standardError = FileHandle.nullDevice
        try robot.run()
        var stop: [String: Any]?
        var journal: RobotJournal?
        for _ in 0..<80 where stop == nil {
            let before = (try? journal?.cycleCount()) ?? 0
            try await fake.control("/_fake/advance", ["bars": 1])
            for _ in 0..<200 {
                if journal == nil, FileManager.default.fileExists(atPath: session + "/journal.sqlite") {
                    journal = try? RobotJournal(path: session + "/journal.sqlite")
                }
                if let n = try? journal?.cycleCount(), n > before { break }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
            let state = try await fake.state()
            let held = (state["positions"] as? [[String: Any]] ?? []).isEmpty == false
            stop = held ? (state["orders"] as? [[String: Any]] ?? []).first {
                $0["type"] as? String == "stop" && $0["parent_id"] is String && ["held", "new", "accepted"].contains($0["status"] as? String ?? "")
            } : nil
        }
        kill(robot.processIdentifier, SIGKILL)
        robot.waitUntilExit()
        let leg = try #require(stop, "the robot opened a bracketed position")
        // While it is down, the market goes through the stop: the broker fills it and cancels the take-profit.
        let stopPrice = try #require(Double(leg["stop_price"] as? String ?? ""))
        let long = leg["side"] as? String == "sell"
        try await fake.control("/_fake/price", ["symbol": "EURUSD", "price": String(format: "%.5f", long ? stopPrice - 0.0010 : stopPrice + 0.0010)])
        #expect((try await fake.state()["positions"] as? [[String: Any]] ?? []).isEmpty)

        // Restarted, the robot reconciles with the broker before its first cycle: the stop's fill and the position.
        try await fake.control("/_fake/advance", ["bars": 1])
        let restart = try CLI.run(arguments + ["--max-cycles", "1"], environment: env, timeout: 120)
        #expect(restart.status == 0, "\(restart)")
        let state = try await fake.state()
        let broker = Self.brokerOrdersByOurID(state)
        let j = try RobotJournal(path: session + "/journal.sqlite")
        let stopID = try #require(broker.first { $0.value["id"] as? String == leg["id"] as? String }?.key)
        let journaled = try #require(try j.orders().first { $0.clientOrderID == stopID })
        #expect(journaled.status == "filled", "\(journaled)")
        // The restart settled with the broker before it stopped: every order and fill matches.
        for o in try j.orders() where o.venueOrderID.map({ !$0.isEmpty }) ?? false {
            let b = try #require(broker[o.clientOrderID], "\(o.clientOrderID) is at the broker")
            #expect(abs((Double(b["filled_qty"] as? String ?? "") ?? -1) - o.filledQuantity) < 1e-9, "\(o.clientOrderID)")
        }
        let brokerFills = Set((state["fills"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(Set(try j.fills().map(\.fillID)) == brokerFills)
        let report = try #require(try j.session("reconciliation"))
        #expect(report.contains(stopID), "the start-up reconciliation names the stop that filled while the robot was down")
    }

    /// `deploy --broker mt5` through the real bridge with the fake MetaTrader5 module: the dry run reads the account
    /// and the clock (the traded symbol's last tick) over the bridge and prints the summary, the token never shown.
    @Test func anMT5DryRunReadsTheAccountAndTheClockThroughTheBridge() async throws {
        let (dir, predictions) = try CLIRobotTests.prepare()
        let token = "mt5-bridge-token-4d1f0a77"
        let market = dir + "/mt5-market.json"
        try #"{"EURUSD": {"bid": 1.10012, "ask": 1.10025, "time": 1704888000}}"#.write(toFile: market, atomically: true, encoding: .utf8)
        let bridge = try #require(try PythonServer.start(
            script: CLI.root.path + "/integrations/mt5/mt5_bridge.py",
            arguments: ["--port", "0", "--log-level", "WARNING", "--max-lifetime", "600"],
            environment: ["PYTHONPATH": CLI.root.path + "/integrations/mt5/testing", "AITRADER_MT5_TOKEN": token,
                          "FAKE_MT5_MARKET_FILE": market]))
        defer { bridge.stop() }
        let run = try CLI.run(["deploy", "--mode", "paper", "--broker", "mt5", "--symbol", "EURUSD", "--predictions", predictions,
                               "--timeframe", "1h", "--session", dir + "/mt5", "--data-root", dir, "--dry-run"],
                              environment: ["AITRADER_MT5_TOKEN": token, "AITRADER_MT5_PORT": "\(bridge.port)"], timeout: 60)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("broker: MetaTrader 5 through the bridge at 127.0.0.1:\(bridge.port) (demo account)"))
        #expect(run.stdout.contains("broker clock: 2024-01-10T12:00:00Z"), "\(run.stdout)")
        #expect(run.stdout.contains("dry run: broker reachable"))
        #expect(!run.stdout.contains(token) && !run.stderr.contains(token))
        let wrong = try CLI.run(["deploy", "--broker", "mt5", "--symbol", "EURUSD", "--predictions", predictions, "--timeframe", "1h",
                                 "--session", dir + "/mt5b", "--data-root", dir, "--dry-run"],
                                environment: ["AITRADER_MT5_TOKEN": "not-the-token", "AITRADER_MT5_PORT": "\(bridge.port)"], timeout: 60)
        #expect(wrong.status == 1 && wrong.stderr.contains("mt5-demo"), "\(wrong)")
    }
}
