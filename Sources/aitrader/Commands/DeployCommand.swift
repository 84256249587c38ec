import Common
import Simulation
import Foundation
import MarketData
import Prediction
import Risk
import Robot
import Trading
import Venues

/// `aitrader deploy --mode paper|production --broker alpaca|mt5 --symbol EURUSD --risk-profile conservative
/// [--checkpoints DIR] [--confirm]`: the robot against a real broker — paper by default, real money only with
/// --confirm — journaled, reconciled with the broker at start, behind the kill switch and order validation.
enum DeployCommand: AITraderCommand {
    static let path = ["deploy"]
    static let summary = "run the trading robot against a broker: paper (default) or production (real money, needs --confirm)"
    static let options: [Option] = [
        Option("mode", .choice(["paper", "production"]), "", "paper account, or production (real money)", default: "paper"),
        Option("broker", .choice(["alpaca", "mt5"]), "", "where orders go", required: true),
        Option("symbol", .list, "SYMBOL[,SYMBOL...]", "symbols to trade (their history must be in the store)", required: true),
        Option(flag: "confirm", "required by --mode production: you have read the summary and mean to trade real money"),
        Option("credentials", .text, "FILE", "NAME=value lines (APCA_API_KEY_ID, APCA_API_SECRET_KEY, AITRADER_MT5_TOKEN, "
               + "endpoints...), readable only by you; default: the environment"),
        Option("checkpoints", .text, "DIR", "checkpoints of the three models"),
        Option("inference-url", .text, "URL", "run the networks on a running `aitrader serve` at URL instead of in this process; "
               + "it must serve the --checkpoints (checked at start: shapes, feature order, SHA-256)"),
        Option("inference-token-file", .text, "FILE", "bearer token for --inference-url, alone in a file only its owner may read "
               + "(default: the environment variable AITRADER_INFERENCE_TOKEN)"),
        Option("inference-timeout", .number(.positive), "SECONDS", "the most one inference request may take", default: "10"),
        Option("predictions", .text, "FILE", "trade on recorded predictions (JSON lines) instead of running the models"),
        Option("timeframe", .timeframe, "", "the bars decided on (default: the checkpoints' finest)"),
        Option("profile", .choice(["scalper", "trader", "investor"]), "", "trading profile (timeframe with --predictions)",
               default: "trader"),
        Option("risk-profile", .text, "NAME", "risk profile of configs/risk_profiles.yaml", default: "conservative"),
        Option("risk-profiles", .text, "PATH", "risk profiles and breakers (default configs/risk_profiles.yaml when present)"),
        Option("ensemble-config", .text, "PATH", "ensemble configuration (default configs/ensemble.yaml when present)"),
        Option("features-config", .text, "DIR", "feature sets the checkpoints were trained on", default: "configs/features"),
        Option("session", .text, "DIR", "where the journal and the kill switch live (default sessions/<SYMBOLS>-<mode>-<broker>); "
               + "an existing session resumes"),
        Option("kill-switch-token-file", .text, "FILE", "the token that resets the kill switch (readable only by you; default: "
               + "the environment variable \(RobotKillSwitchCommand.tokenVariable); paper sessions without one get a new "
               + "token in SESSION/kill-switch.token)"),
        Option("max-daily-trades", .integer(1 ... 1_000_000), "N", "kill switch: orders a session day may send", default: "100"),
        Option("max-position-value", .number(.positive), "AMOUNT", "kill switch: largest gross position value (default: 3 x equity at start)"),
        Option("max-connectivity-failures", .integer(1 ... 1_000_000), "N", "kill switch: broker calls failing in a row", default: "20"),
        Option("max-rejections", .integer(1 ... 1_000_000), "N", "kill switch: orders rejected in a row", default: "5"),
        Option(flag: "flatten-on-kill", "when the kill switch trips, also close every position (default: only cancel orders)"),
        Option("poll-interval", .number(.positive), "SECONDS", "how often the broker's clock and bars are polled", default: "2"),
        Option("until", .time, "", "stop once the broker's clock passes this time (default: run until stopped)"),
        Option("max-cycles", .integer(1 ... Int.max), "N", "stop after N cycles (resume later with the same command)"),
        Option("monitor-port", .integer(0 ... 65_535), "PORT", "serve metrics (/metrics), a status page (/) and /health on 127.0.0.1"),
        Option(flag: "dry-run", "print the summary, check the broker (account, clock) and the journal, and stop before trading"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Paper is the default; --mode production trades real money and refuses to start without --confirm. Credentials
        come from the environment (APCA_API_KEY_ID, APCA_API_SECRET_KEY; AITRADER_MT5_TOKEN for the MT5 bridge) or from
        --credentials FILE, which must be readable by you alone (chmod 600). Endpoints are read as Alpaca's SDKs read
        them: APCA_API_BASE_URL (trading; paper: https://paper-api.alpaca.markets), APCA_API_DATA_URL (market data),
        APCA_API_STREAM_URL (market-data stream), APCA_API_TRADING_STREAM_URL (trade updates; default: the base URL's
        /stream) — the same binary runs against paper, live, or any server that speaks the API.
        Before the first order the command prints (and journals) a summary without secrets, reads the broker's
        account and clock, and compares the journal with the broker's orders, fills and positions, reporting every
        difference. Each cycle starts when the broker's clock passes a bar close and the new bars have arrived (they are
        appended to the local store the models read); every order passes the kill switch, then validation (tradable
        symbol, size, price band around the last close, buying power, duplicate client id, market open), then goes to the
        broker under a client order id journaled first; the acknowledgement is verified and the position reconciled.
        Ctrl-C stops after the cycle in progress (exit 130); the same command resumes.
        """

    static func run(_ values: OptionValues) async throws {
        let mode = values.string("mode") ?? "paper"
        let brokerName = values.string("broker") ?? ""
        if mode == "production" && !values.flag("confirm") {
            throw UsageError("--mode production trades real money: run with --dry-run first, read the summary, then add --confirm")
        }
        let symbols = values.list("symbol") ?? []
        let session = values.string("session") ?? "sessions/\(symbols.joined(separator: "_"))-\(mode)-\(brokerName)"
        let setup = try RobotSetup(values, mode: mode, session: session)
        let timeframe = try Timeframe(parsing: setup.recorded.timeframe)
        let environment = try DeployBroker.environment(values)
        let connection = try DeployBroker.make(brokerName, mode: mode, environment: environment, timeframe: timeframe, symbols: symbols)
        let broker = connection.broker
        let quiet = values.flag("quiet")

        // The broker first: nothing is journaled or sent when it cannot be reached or refuses the keys.
        let account: AccountReport, clock: MarketClock
        do {
            account = try await broker.account()
            clock = try await broker.clock()
        } catch {
            throw CommandFailure("\(broker.name): \(error)")
        }
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
        let journal = try RobotJournal(path: session + "/journal.sqlite", durability: mode == "production" ? .full : .process)
        try setup.checkSession(journal)
        let killSwitch = try makeKillSwitch(values, session: session, mode: mode, equity: account.equity)
        let validator = OrderValidator(limits: OrderValidator.Limits(tradableSymbols: Set(symbols)))

        var summary = ["aitrader deploy: \(mode) on \(brokerName), \(symbols.joined(separator: ",")) \(timeframe)"]
        summary += connection.summary
        summary.append("account: equity \(RobotLines.money(account.equity)), cash \(RobotLines.money(account.balance)), "
                       + "buying power \(RobotLines.money(account.buyingPower)), \(account.positions.count) positions")
        summary.append("broker clock: \(UTCTime.iso8601(clock.time)), market \(clock.isOpen ? "open" : "closed")")
        summary.append("risk profile: \(values.string("risk-profile") ?? "conservative") (risk per trade "
                       + "\(setup.settings.profile.riskPerTrade), max exposure \(setup.settings.profile.maxExposure))")
        summary.append("predictions: \(setup.recorded.source)")
        summary.append("kill switch: \(killSwitch.path) (\(killSwitch.isActive ? "ACTIVE" : "inactive")); limits \(limitsText(killSwitch.limits))")
        summary.append("journal: \(journal.path)")
        let text = summary.joined(separator: "\n")
        try journal.setSession("deploy", text)
        Log.info("deploy summary", ["summary": text])
        print(text)
        if values.flag("dry-run") {
            print("dry run: broker reachable, journal ready; no order sent")
            await broker.close()
            return
        }

        let monitor = try values.int("monitor-port").map { port throws -> TradingMonitor in try RobotMonitoring.start(port: port, killSwitch: killSwitch) }
        defer { monitor?.stop() }
        let alerts: any AlertSink = monitor ?? LogAlertSink()
        let watcher = BrokerStreamWatcher(broker: broker, alerts: alerts, onReconnect: { monitor?.recordReconnect() })
        watcher.start()

        // History: the store's bars that had closed by the broker's clock — and, when the session resumes, by its
        // last completed cycle: bars that closed while the robot was down come from the broker as new ones.
        let step = timeframe.milliseconds
        let cutoff = min(clock.time, try journal.lastCompletedCycle()?.time ?? .max)
        let history = setup.series.map { $0.slice(to: cutoff - step + 1) }      // open + step <= cutoff
        let store = try DataContext.store(dataRoot: setup.recorded.dataRoot)
        let feed = LiveBarFeed(name: brokerName, symbols: symbols, timeframe: timeframe, history: history,
                               clock: { try await broker.clock().time }, fetch: connection.fetch,
                               record: { bars in try store.append(bars, source: brokerName) },
                               pollInterval: values.double("poll-interval") ?? 2, end: values.time("until") ?? .max)
        // With monitoring, every broker call is timed and its failures counted (latency by operation, errors by kind).
        let venue: any Venue = monitor.map { InstrumentedVenue(broker, monitor: $0) } ?? broker
        let productionMode = ProductionMode(name: mode, broker: venue, killSwitch: killSwitch, validator: validator, feed: feed,
                                            journal: journal, calendars: setup.calendars, alerts: alerts)
        let robot = TradingRobot(strategy: RobotStrategy(settings: setup.settings, source: setup.source), mode: productionMode,
                                 journal: journal, initialBalance: account.balance,
                                 wallClock: { feed.brokerTime ?? Int64(Date().timeIntervalSince1970 * 1000) }, alerts: alerts)
        Interrupts.install()
        let final: RobotStatus
        do {
            try await robot.start(maxCycles: values.int("max-cycles"), stopWhen: { Interrupts.requested },
                                  continueAfterBrokerFailures: true) { status, log in
                if !quiet { print(RobotLines.cycle(status, log)) }
                monitor?.record(status, orderStates: (try? journal.orderCountsByStatus()) ?? [:])
            }
            // What the broker did with the last cycle's orders, journaled before the process ends.
            do { try await robot.settle() } catch {
                writeError("warning: the last look at the broker failed (\(error)); the next start reconciles\n")
            }
            final = await robot.status()
        } catch {
            await watcher.stop()
            throw error
        }
        await watcher.stop()
        if let report = productionMode.startupReport, !quiet {
            print(report.isClean ? "start-up reconciliation: journal and broker agreed"
                                 : "start-up reconciliation: \(report.differences.count) differences (see the journal)")
        }
        if !quiet {
            print(RobotLines.summary(final, journal: journal.path))
            let c = watcher.streamCounts
            print("broker stream: \(c.orderUpdates) order updates, \(c.fills) fills pushed, \(c.disconnects) disconnects, "
                  + "\(c.reconnects) reconnects; bar closes skipped (arrived late together): \(feed.skippedCloses)")
        }
        if Interrupts.requested {
            writeError("stopped after the cycle in progress; resume with the same command\n")
            exit(130)
        }
    }

    static func makeKillSwitch(_ values: OptionValues, session: String, mode: String, equity: Double) throws -> KillSwitch {
        let authorization: KillSwitchAuthorization
        if let file = values.string("kill-switch-token-file") {
            authorization = try KillSwitchAuthorization.fromFile(file)
        } else if let env = ProcessInfo.processInfo.environment[RobotKillSwitchCommand.tokenVariable], !env.isEmpty {
            authorization = try KillSwitchAuthorization.fromEnvironment(RobotKillSwitchCommand.tokenVariable)
        } else if mode == "paper" {
            let file = session + "/kill-switch.token"
            if !FileManager.default.fileExists(atPath: file) {
                var bytes = [UInt8](repeating: 0, count: 24)
                var rng = SystemRandomNumberGenerator()
                for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
                let token = bytes.map { String(format: "%02x", $0) }.joined()
                guard FileManager.default.createFile(atPath: file, contents: Data((token + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600]) else {
                    throw CommandFailure("cannot write \(file)")
                }
            }
            authorization = try KillSwitchAuthorization.fromFile(file)
        } else {
            throw UsageError("--mode production needs the kill switch's reset token: --kill-switch-token-file FILE or "
                             + "\(RobotKillSwitchCommand.tokenVariable)")
        }
        let limits = KillSwitch.Limits(maxDailyTrades: values.int("max-daily-trades") ?? 100,
                                       maxPositionValue: values.double("max-position-value") ?? max(1, 3 * equity),
                                       maxConnectivityFailures: values.int("max-connectivity-failures") ?? 20,
                                       maxConsecutiveRejections: values.int("max-rejections") ?? 5,
                                       flattenOnTrigger: values.flag("flatten-on-kill"))
        return try KillSwitch(path: session + "/kill-switch.json", limits: limits, authorization: authorization)
    }

    static func limitsText(_ l: KillSwitch.Limits) -> String {
        var parts: [String] = []
        if let v = l.maxDailyTrades { parts.append("\(v) trades/day") }
        if let v = l.maxPositionValue { parts.append("position value \(RobotLines.money(v))") }
        if let v = l.maxConnectivityFailures { parts.append("\(v) broker failures in a row") }
        if let v = l.maxConsecutiveRejections { parts.append("\(v) rejections in a row") }
        parts.append(l.flattenOnTrigger ? "flatten on trip" : "cancel orders on trip")
        return parts.joined(separator: ", ")
    }
}
