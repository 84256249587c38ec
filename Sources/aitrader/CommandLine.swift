import Common
import Foundation

/// A subcommand of `aitrader` (`aitrader data import ...`, `aitrader backtest ...`).
///
/// Each command lives in its own file under `Commands/` and is listed once in `CommandRegistry.all`.
protocol AITraderCommand: Sendable {
    /// The words that select this command, e.g. `["data", "import"]` or `["backtest"]`.
    static var path: [String] { get }
    /// One line for `aitrader help`.
    static var summary: String { get }
    /// The full usage text printed by `aitrader help <command>` and on a usage error.
    static var usage: String { get }
    static func run(_ arguments: ParsedArguments) async throws
}

/// A usage error: printed with the command's usage text, exit status 64 (EX_USAGE).
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// `--name value`, `--name=value` and `--flag` options plus positional words, parsed without a schema;
/// each command asks for what it accepts, and `finish()` rejects anything left over, so typos are caught.
///
///     let args = try ParsedArguments(["--symbol", "EURUSD", "--json"])
///     try args.string("symbol")   // "EURUSD"
///     args.flag("json")           // true
final class ParsedArguments {
    private var options: [String: [String]] = [:]
    private var flags: Set<String> = []
    private(set) var positional: [String] = []
    private var consumed: Set<String> = []

    init(_ words: [String]) throws {
        var i = 0
        while i < words.count {
            let word = words[i]
            if word == "--" {
                positional.append(contentsOf: words[(i + 1)...])
                break
            }
            if word.hasPrefix("--") {
                let body = String(word.dropFirst(2))
                if let eq = body.firstIndex(of: "=") {
                    options[String(body[..<eq]), default: []].append(String(body[body.index(after: eq)...]))
                } else if i + 1 < words.count, !words[i + 1].hasPrefix("--") || Double(words[i + 1]) != nil {
                    options[body, default: []].append(words[i + 1])
                    i += 1
                } else {
                    flags.insert(body)
                }
            } else {
                positional.append(word)
            }
            i += 1
        }
    }

    /// True when `--name` was given as a flag (or as `--name true`).
    func flag(_ name: String) -> Bool {
        consumed.insert(name)
        if flags.contains(name) { return true }
        if let v = options[name]?.last { return ["true", "1", "yes"].contains(v.lowercased()) }
        return false
    }

    func string(_ name: String) -> String? {
        consumed.insert(name)
        if flags.contains(name) { return "" }
        return options[name]?.last
    }

    func require(_ name: String) throws -> String {
        guard let v = string(name), !v.isEmpty else { throw UsageError("missing required option --\(name)") }
        return v
    }

    func int(_ name: String) throws -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s) else { throw UsageError("--\(name) expects an integer, got '\(s)'") }
        return v
    }

    func double(_ name: String) throws -> Double? {
        guard let s = string(name) else { return nil }
        guard let v = Double(s), v.isFinite else { throw UsageError("--\(name) expects a number, got '\(s)'") }
        return v
    }

    /// A comma-separated list (`--indicators rsi_14,sma_20`), also accepting the option repeated.
    func list(_ name: String) -> [String]? {
        consumed.insert(name)
        guard let values = options[name] else { return nil }
        return values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    /// Throws if an option was given that the command never asked for.
    func finish() throws {
        let unknown = Set(options.keys).union(flags).subtracting(consumed)
        if let first = unknown.sorted().first { throw UsageError("unknown option --\(first)") }
    }
}
