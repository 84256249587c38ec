import Common
import Features
import Foundation
import MarketData
import Models
import Prediction
import Risk
import Robot
import Simulation
import Trading

/// `aitrader robot run --mode simulation --symbol EURUSD --checkpoints DIR [--speed N|max] ...`: the trading robot
/// over stored bars as if live, one status line per cycle, journaled and resumable.
enum RobotRunCommand: AITraderCommand {
    static let path = ["robot", "run"]
    static let summary = "run the trading robot (simulation mode: stored bars as if live), journaled and resumable"
    static let options: [Option] = [
        Option("mode", .choice(["simulation"]), "", "execution mode (paper and live come with the broker venues)",
               default: "simulation"),
        Option("symbol", .list, "SYMBOL[,SYMBOL...]", "symbols to trade (bars in the store)", required: true),
        Option("checkpoints", .text, "DIR", "checkpoints of the three models (`aitrader train --model all --checkpoint-dir DIR`)"),
        Option("inference-url", .text, "URL", "run the networks on a running `aitrader serve` at URL (http://HOST:PORT) instead of "
               + "in this process; it must serve the --checkpoints (checked at start: shapes, feature order, SHA-256)"),
        Option("inference-token-file", .text, "FILE", "bearer token for --inference-url, alone in a file only its owner may read "
               + "(default: the environment variable AITRADER_INFERENCE_TOKEN)"),
        Option("inference-timeout", .number(.positive), "SECONDS", "the most one inference request may take; also the most a call "
               + "waits on a busy server's Retry-After", default: "10"),
        Option("predictions", .text, "FILE", "trade on recorded predictions instead of running the models: JSON lines, "
               + "one EnsemblePrediction per line (as `aitrader predict --json` writes its objects)"),
        Option("start", .time, "", "the first bar close to trade at (earlier bars are history; default: the first)"),
        Option("end", .time, "", "the last bar to trade, inclusive (a date includes that whole day; default: the last)"),
        Option("speed", .text, "N|max", "pace: max (as fast as possible) or N times real time", default: "max"),
        Option("timeframe", .timeframe, "", "the bars decided on (default: the checkpoints' finest; with --predictions "
               + "the trading profile's short_term timeframe)"),
        Option("profile", .choice(["scalper", "trader", "investor"]), "", "trading profile (timeframe with --predictions)",
               default: "trader"),
        Option("risk-profile", .text, "NAME", "risk profile of configs/risk_profiles.yaml", default: "moderate"),
        Option("risk-profiles", .text, "PATH", "risk profiles and breakers (default configs/risk_profiles.yaml when present)"),
        Option("ensemble-config", .text, "PATH", "ensemble configuration (default configs/ensemble.yaml when present)"),
        Option("features-config", .text, "DIR", "feature sets the checkpoints were trained on", default: "configs/features"),
        Option("config", .text, "PATH", "execution models and cash (default configs/simulation.yaml when present)"),
        Option("cash", .number(.positive), "AMOUNT", "starting balance (default: the config's)"),
        Option("session", .text, "DIR", "where the journal lives (default sessions/<SYMBOLS>-<mode>); an existing "
               + "session resumes where it stopped"),
        Option("max-cycles", .integer(1 ... Int.max), "N", "stop after N cycles (resume later with the same command)"),
        Option("monitor-port", .integer(0 ... 65_535), "PORT", "serve Prometheus metrics at 127.0.0.1:PORT/metrics, a status "
               + "page at / and /health while the robot runs (0: any free port; the address goes to standard error)"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Each cycle happens at a bar close: the simulated venue fills working orders on the new bar (the backtester's
        execution models: slippage, commission, latency, brackets), the robot updates its daily counters, checks its
        circuit breakers, asks the ensemble (closed bars only), sizes a signal (fractional Kelly, ATR stop and target,
        capped by the risk profile), passes every order through the pre-trade risk engine, journals it and sends it.
        One line per cycle: time, equity, positions, each symbol's decision, tripped breakers.
        The journal (SESSION/journal.sqlite) holds every cycle, signal, order, fill, position change and breaker event,
        written before the action it records. A session stopped with Ctrl-C (after the cycle in progress), --max-cycles
        or killed outright resumes from its journal with the same command and ends as an uninterrupted run would.
        `aitrader robot status` shows where a session stands; `aitrader robot replay` re-runs it and checks the
        decisions.
        With --inference-url the forward passes go to a running `aitrader serve` (the Open Inference Protocol, binary
        tensors); the features, windows, calibration, market conditions and dynamic weights stay here, so the session
        decides as with in-process inference (and may be resumed either way). The server must run the very
        checkpoints of --checkpoints: a different model, shape, feature order or file is refused at start, naming it.
        A prediction that fails at a bar close (server down, busy beyond the timeout, another checkpoint loaded) is
        journaled, alerted and counts as stale data: no new position on it, and --risk-profiles' stale_data
        max_age_bars failed closes in a row trip the stale-data breaker until predictions come back.
        With --monitor-port the robot's metrics (equity, P&L, positions, orders by state, cycle latency, breakers, data
        age) are served on 127.0.0.1 in the Prometheus text format; alerts also go to the Slack-compatible webhook
        whose URL is in the environment variable AITRADER_ALERT_WEBHOOK (never printed).
        """

    static func run(_ values: OptionValues) async throws {
        let setup = try RobotSetup(values)
        let journal = try RobotJournal(path: setup.session + "/journal.sqlite", durability: .process)
        try setup.checkSession(journal)
        let monitor = try values.int("monitor-port").map { port throws -> TradingMonitor in try RobotMonitoring.start(port: port) }
        defer { monitor?.stop() }
        let robot = TradingRobot(strategy: RobotStrategy(settings: setup.settings, source: setup.source), mode: setup.mode(),
                                 journal: journal, initialBalance: setup.cash, alerts: monitor ?? LogAlertSink())
        let quiet = values.flag("quiet")
        if let last = try journal.lastCompletedCycle(), !quiet {
            print("resuming \(setup.session) after the cycle at \(UTCTime.iso8601(last.time)) (\(try journal.cycleCount()) cycles done)")
        }
        Interrupts.install()
        let final = try await robot.start(maxCycles: values.int("max-cycles"), stopWhen: { Interrupts.requested }) { status, log in
            if !quiet { print(RobotLines.cycle(status, log)) }
            monitor?.record(status, orderStates: (try? journal.orderCountsByStatus()) ?? [:])
        }
        if !quiet {
            print(RobotLines.summary(final, journal: journal.path))
        }
        if Interrupts.requested {
            writeError("stopped after the cycle in progress; resume with the same command\n")
            exit(130)
        }
    }
}

/// `aitrader robot status --session DIR [--json]`.
enum RobotStatusCommand: AITraderCommand {
    static let path = ["robot", "status"]
    static let summary = "where a robot session stands: equity, positions, open orders, breakers, latest decisions"
    static let options: [Option] = [
        Option("session", .text, "DIR", "the session directory (holds journal.sqlite)"),
        Option("journal", .text, "FILE", "the journal file itself"),
        Option(flag: "json", "print the status as JSON"),
    ]
    static let discussion = """
        Reads the session's journal (written after every cycle by `aitrader robot run`); works while the robot runs.
        """

    static func run(_ values: OptionValues) async throws {
        let path = try RobotSetup.journalPath(values)
        let journal = try RobotJournal(path: path)
        guard let text = try journal.session("status") else {
            throw CommandFailure("\(path) has no completed cycle yet")
        }
        let status = try RobotJSON.decoder.decode(RobotStatus.self, from: Data(text.utf8))
        if values.flag("json") {
            print(text)
            return
        }
        print(RobotLines.summary(status, journal: path))
        // A production session's start-up reconciliation (journal vs broker), when one was made.
        if let text = try journal.session("reconciliation"),
           let report = try? RobotJSON.decoder.decode(ReconciliationReport.self, from: Data(text.utf8)) {
            print(report.isClean ? "start-up reconciliation: journal and broker agreed"
                                 : "start-up reconciliation: \(report.differences.count) differences")
            for d in report.differences { print("  \(d.kind.rawValue): \(d.message)") }
        }
    }
}

/// `aitrader robot replay --journal FILE`: re-runs a recorded session through the simulator from the predictions it
/// journaled and checks that every decision comes out the same.
enum RobotReplayCommand: AITraderCommand {
    static let path = ["robot", "replay"]
    static let summary = "re-run a recorded robot session through the simulator and check it decides exactly the same"
    static let options: [Option] = [
        Option("journal", .text, "FILE", "the session's journal.sqlite", required: true),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Uses the settings, risk profile, breakers and execution models the session recorded, the same stored bars,
        and the ensemble predictions its signals journaled (no models are run). Compares every signal and every order
        (client order id and request) with the journal; exits 1 at the first difference, naming it.
        """

    static func run(_ values: OptionValues) async throws {
        let path = values.string("journal") ?? ""
        guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("no such journal: \(path)") }
        let recorded = try RobotJournal(path: path)
        let setup = try RobotSetup(replaying: recorded, dataRoot: try DataContext.dataRoot(values))
        let replay = try RobotJournal(inMemory: ())
        let robot = TradingRobot(strategy: RobotStrategy(settings: setup.settings, source: setup.source), mode: setup.mode(),
                                 journal: replay, initialBalance: setup.cash)
        let cycles = try recorded.cycleCount()
        let status = try await robot.start(maxCycles: cycles)
        let a = try recorded.signals(), b = try replay.signals()
        for (x, y) in zip(a, b) where x.body != y.body {
            throw CommandFailure("the signal for \(x.symbol) at \(UTCTime.iso8601(x.time)) differs:\n  journal: \(x.body)\n  replay:  \(y.body)")
        }
        guard a.count == b.count else { throw CommandFailure("the journal has \(a.count) signals, the replay \(b.count)") }
        let oa = try recorded.orders().filter { $0.cycle >= 0 }, ob = try replay.orders().filter { $0.cycle >= 0 }
        for (x, y) in zip(oa, ob) where x.clientOrderID != y.clientOrderID || x.request != y.request || x.time != y.time {
            throw CommandFailure("order \(x.clientOrderID) at \(UTCTime.iso8601(x.time)) differs from the replay's \(y.clientOrderID) at \(UTCTime.iso8601(y.time))")
        }
        guard oa.count == ob.count else { throw CommandFailure("the journal has \(oa.count) orders, the replay \(ob.count)") }
        print("replayed \(status.cycles) cycles: \(a.count) signals and \(oa.count) orders identical to \(path)")
    }
}

/// `--monitor-port`: the robot's `TradingMonitor` on 127.0.0.1, alerts to the webhook in AITRADER_ALERT_WEBHOOK.
enum RobotMonitoring {
    static let webhookVariable = "AITRADER_ALERT_WEBHOOK"

    static func start(port: Int, killSwitch: KillSwitch? = nil) throws -> TradingMonitor {
        var sinks: [any AlertSink] = []
        if let text = ProcessInfo.processInfo.environment[webhookVariable], !text.isEmpty {
            guard let url = URL(string: text) else {
                throw RobotError.configuration("\(webhookVariable) is not a URL")
            }
            sinks.append(try WebhookAlertSink(url: url))
        }
        let monitor = TradingMonitor(killSwitch: killSwitch, sinks: sinks)
        do { try monitor.start(port: port) } catch {
            throw RobotError.configuration("--monitor-port: \(error)")
        }
        writeError("monitoring on http://127.0.0.1:\(monitor.port) (/metrics, /health, /)\n")
        return monitor
    }
}
