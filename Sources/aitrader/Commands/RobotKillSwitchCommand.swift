import Common
import Foundation
import Robot

/// `aitrader robot kill-switch --state FILE [--trigger REASON | --reset] [--json]`: the operator's side of the
/// production robot's kill switch. A running robot on the same state file sees a trip or a reset at its next check.
enum RobotKillSwitchCommand: AITraderCommand {
    static let path = ["robot", "kill-switch"]
    static let summary = "show, trip or reset a production robot's kill switch (reset needs the authorization token)"
    static let tokenVariable = "AITRADER_KILL_SWITCH_TOKEN"
    static let options: [Option] = [
        Option("state", .text, "FILE", "the kill switch's state file (the robot's --kill-switch file)", required: true),
        Option("trigger", .text, "REASON", "trip it now, giving the reason (orders stop at once; open orders are "
               + "cancelled at the robot's next bar)"),
        Option(flag: "reset", "clear it: the token is read from standard input and must equal the configured one"),
        Option("token-file", .text, "FILE", "the configured token (readable only by its owner; default: the environment "
               + "variable \(tokenVariable))"),
        Option(flag: "json", "print the state as JSON"),
    ]
    static let discussion = """
        The kill switch lives in its own JSON file, written atomically, so a restart never clears it. Without
        --trigger or --reset the command prints whether it is active, why and since when, the session day's trade
        count and its history of trips and resets. --reset compares the token typed or piped on standard input with
        the configured one (--token-file, or \(tokenVariable)); the token is never printed, logged or stored.
            aitrader robot kill-switch --state sessions/live/kill-switch.json --trigger "desk halt"
            aitrader robot kill-switch --state sessions/live/kill-switch.json --reset --token-file ~/.aitrader/ks.token < typed
        """

    static func run(_ values: OptionValues) async throws {
        let state = values.string("state") ?? ""
        let trigger = values.string("trigger"), reset = values.flag("reset")
        if trigger != nil && reset { throw UsageError("--trigger and --reset exclude each other") }
        if let trigger, trigger.trimmingCharacters(in: .whitespaces).isEmpty { throw UsageError("--trigger needs a reason") }
        let authorization: KillSwitchAuthorization = if let file = values.string("token-file") {
            try KillSwitchAuthorization.fromFile(file)
        } else {
            try KillSwitchAuthorization.fromEnvironment(tokenVariable)
        }
        let killSwitch = try KillSwitch(path: state, authorization: authorization)
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        if let trigger {
            try killSwitch.trigger(trigger, at: now)
        } else if reset {
            guard let line = readLine(strippingNewline: true) else {
                throw UsageError("--reset reads the authorization token from standard input; none was given")
            }
            try killSwitch.reset(authorization: line.trimmingCharacters(in: .whitespaces), at: now)
        }
        let s = killSwitch.state
        if values.flag("json") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(s), as: UTF8.self))
            return
        }
        if s.active {
            print("kill switch ACTIVE since \(s.since.map(UTCTime.iso8601) ?? "?"): \(s.trigger?.rawValue ?? "manual"): \(s.reason ?? "")")
            print(s.sweptAt == nil ? "open orders: to be cancelled at the robot's next bar" : "open orders cancelled at \(UTCTime.iso8601(s.sweptAt!))")
        } else {
            print("kill switch inactive")
        }
        if let day = s.tradeDay { print("trades on session day \(UTCTime.iso8601(day * UTCTime.msPerDay).prefix(10)): \(s.tradesToday)") }
        for e in s.history.suffix(10) {
            print("  \(UTCTime.iso8601(e.time)) \(e.action)\(e.trigger.map { " (\($0.rawValue))" } ?? ""): \(e.reason)")
        }
    }
}
