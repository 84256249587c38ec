import Common
import Foundation

/// A subcommand of `aitrader` (`aitrader data import ...`, `aitrader backtest ...`).
///
/// Each command lives in its own file under `Commands/`, is listed once in `CommandRegistry.all`, and declares its
/// options once: parsing, validation, `--help` and usage errors come from that declaration (`Option`).
///
///     enum DataListCommand: AITraderCommand {
///         static let path = ["data", "list"]
///         static let summary = "list the stored datasets"
///         static let options = [Option(flag: "json", "print JSON")] + DataContext.options
///         static func run(_ v: OptionValues) async throws { ... v.flag("json") ... }
///     }
protocol AITraderCommand: Sendable {
    /// The words that select this command, e.g. `["data", "import"]` or `["backtest"]`.
    static var path: [String] { get }
    /// One line for `aitrader help`.
    static var summary: String { get }
    /// The command's own options (the global ones are added to every command).
    static var options: [Option] { get }
    /// Prose after the option table in `--help` (what the command writes, how it decides).
    static var discussion: String { get }
    /// The positional arguments it takes, as help shows them (`RUN`, `RUN RUN...`); "" (the default): none, and
    /// a positional word is a usage error.
    static var arguments: String { get }
    static func run(_ values: OptionValues) async throws
}

extension AITraderCommand {
    static var discussion: String { "" }
    static var arguments: String { "" }
    static var name: String { path.joined(separator: " ") }
}

/// The help texts, generated from the declarations.
enum Help {
    static let width = 100

    /// `aitrader <command> --help`.
    static func command(_ command: AITraderCommand.Type) -> String {
        let required = command.options.filter(\.required).map(\.signature).joined(separator: " ")
        var text = "Usage: aitrader \(command.name)" + (command.arguments.isEmpty ? "" : " " + command.arguments)
            + (required.isEmpty ? "" : " " + required) + " [options]\n\n"
        text += command.summary.prefix(1).uppercased() + command.summary.dropFirst() + ".\n\n"
        text += "Options:\n" + table(command.options)
        text += "\nGlobal options:\n" + table(GlobalOptions.all)
        if !command.discussion.isEmpty { text += "\n" + command.discussion.trimmingCharacters(in: .newlines) + "\n" }
        return text
    }

    /// `aitrader <group>` / `aitrader help <group>`: the group's subcommands.
    static func group(_ prefix: [String], _ commands: [AITraderCommand.Type]) -> String {
        var text = "Usage: aitrader \(prefix.joined(separator: " ")) <subcommand> [options]\n\nSubcommands:\n"
        text += listing(commands, dropping: prefix.count)
        text += "\n'aitrader \(prefix.joined(separator: " ")) <subcommand> --help' shows a subcommand's options.\n"
        return text
    }

    /// `aitrader`, `aitrader --help`, `aitrader help`.
    static func top(_ commands: [AITraderCommand.Type]) -> String {
        var text = "aitrader \(AITraderVersion.string) — market data, features, forecasting models, backtests and "
            + "trading in one binary.\n\nUsage: aitrader <command> [options]\n\nCommands:\n"
        text += listing(commands, dropping: 0)
        text += "\nGlobal options (every command):\n" + table(GlobalOptions.all)
        text += "  --version                      print the version\n"
        text += "\n'aitrader help <command>' or 'aitrader <command> --help' shows a command's options.\n"
        text += "Exit status: 0 success, 64 usage error, 65 bad input data, 1 other failure.\n"
        return text
    }

    static func listing(_ commands: [AITraderCommand.Type], dropping: Int) -> String {
        commands.map { c in
            "  " + c.path.dropFirst(dropping).joined(separator: " ").padding(toLength: 22, withPad: " ", startingAt: 0)
                + c.summary + "\n"
        }.joined()
    }

    /// Two columns: signature, then help with its default and "required", wrapped.
    static func table(_ options: [Option]) -> String {
        var out = ""
        for option in options {
            var help = option.help
            if option.required { help += " (required)" }
            if let d = option.defaultValue, !option.value.isFlag { help += " (default \(d))" }
            let left = "  " + option.signature
            let indent = 33
            var lines = wrap(help, width: width - indent)
            if lines.isEmpty { lines = [""] }
            if left.count < indent - 1 {
                out += left.padding(toLength: indent, withPad: " ", startingAt: 0) + lines[0] + "\n"
            } else {
                out += left + "\n" + String(repeating: " ", count: indent) + lines[0] + "\n"
            }
            for line in lines.dropFirst() { out += String(repeating: " ", count: indent) + line + "\n" }
        }
        return out
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

