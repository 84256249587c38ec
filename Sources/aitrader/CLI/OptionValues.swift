import Common
import Foundation
import MarketData

/// A usage error: a one-line message, then a hint to `--help`; exit status 64 (EX_USAGE).
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The command line of one command, parsed against its declared options: unknown options, missing required ones
/// and values that break their declaration are usage errors here, before the command runs. The accessors read
/// already-checked values, so a command never re-validates what its declaration says.
///
///     let v = try OptionValues(["--symbol", "EURUSD", "--cash", "5000"], options: BacktestCommand.options)
///     v.string("symbol")   // "EURUSD"
///     v.double("cash")     // 5000 (the declared default when absent)
struct OptionValues {
    let declared: [String: Option]
    private var given: [String: [String]] = [:]
    private(set) var positional: [String] = []

    /// True when `--help` / `-h` was among the words (the command prints its help instead of running).
    var wantsHelp: Bool { given["help"] != nil }

    init(_ words: [String], options: [Option], positionalAllowed: Bool = false) throws {
        var table: [String: Option] = [:]
        for option in options + GlobalOptions.all { table[option.name] = option }
        declared = table
        var i = 0
        while i < words.count {
            let word = words[i]
            i += 1
            if word == "-h" { given["help"] = ["true"]; continue }
            if word == "--" {
                positional.append(contentsOf: words[i...])
                break
            }
            guard word.hasPrefix("--"), word.count > 2 else {
                positional.append(word)
                continue
            }
            let body = word.dropFirst(2)
            let name: String, inline: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                inline = String(body[body.index(after: eq)...])
            } else {
                name = String(body)
                inline = nil
            }
            guard let option = table[name] else {
                throw UsageError("unknown option --\(name)" + Self.suggestion(for: name, among: Array(table.keys)))
            }
            let text: String
            if option.value.isFlag {
                text = inline ?? "true"
            } else if let inline {
                text = inline
            } else if i < words.count, !words[i].hasPrefix("--") || Double(words[i]) != nil {
                text = words[i]
                i += 1
            } else {
                throw UsageError("--\(name) needs a value (\(option.valueName))")
            }
            given[name, default: []].append(text)
        }
        if wantsHelp { return }
        if !positional.isEmpty && !positionalAllowed {
            throw UsageError("unexpected argument '\(positional[0])' (options are written --name VALUE)")
        }
        for (name, values) in given {
            guard let option = table[name] else { continue }
            if case .list = option.value {} else if values.count > 1, !option.value.isFlag {
                throw UsageError("--\(name) given \(values.count) times")
            }
            for value in values { if let problem = option.problem(with: value) { throw UsageError(problem) } }
        }
        for option in options where option.required && given[option.name] == nil {
            throw UsageError("missing required option --\(option.name) \(option.valueName)")
        }
    }

    /// " (did you mean --x?)" for a near miss among the declared names, else "".
    static func suggestion(for name: String, among names: [String]) -> String {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0 ... b.count)
            for (i, ca) in a.enumerated() {
                var previous = row[0]
                row[0] = i + 1
                for (j, cb) in b.enumerated() {
                    let current = row[j + 1]
                    row[j + 1] = min(row[j + 1] + 1, row[j] + 1, previous + (ca == cb ? 0 : 1))
                    previous = current
                }
            }
            return row[b.count]
        }
        let best = names.map { ($0, distance(Array(name), Array($0))) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(1, name.count / 3) else { return "" }
        return " (did you mean --\(best.0)?)"
    }

    /// Whether the user wrote the option (defaults do not count).
    func isGiven(_ name: String) -> Bool { given[name] != nil }

    /// Whether the command declares the option (code shared by commands asks before reading one they may lack).
    func declares(_ name: String) -> Bool { declared[name] != nil }

    /// The raw text: the last value given, else the declared default.
    func string(_ name: String) -> String? {
        guard let option = declared[name] else {
            assertionFailure("option --\(name) is not declared")
            return nil
        }
        return given[name]?.last ?? option.defaultValue
    }

    /// A configuration file: the option's path when given, else `shipped` (a file of the repository's configs/)
    /// when it exists there, else nil (the built-in defaults). Explicit paths are not checked here: loading one that
    /// does not exist is the loader's error, naming the file.
    func configPath(_ name: String, default shipped: String) -> String? {
        string(name) ?? Self.shipped(shipped)
    }

    /// `path` when it exists (a configs/ file of the repository the command runs in), else nil.
    static func shipped(_ path: String) -> String? { FileManager.default.fileExists(atPath: path) ? path : nil }

    func flag(_ name: String) -> Bool {
        guard let text = string(name) else { return false }
        return ["true", "1", "yes"].contains(text.lowercased())
    }

    /// A declared `.integer` option (validated when parsed).
    func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }

    /// A declared `.number` option (validated when parsed).
    func double(_ name: String) -> Double? { string(name).flatMap { Double($0) } }

    /// A declared `.timeframe` option.
    func timeframe(_ name: String) -> Timeframe? { string(name).flatMap { try? Timeframe(parsing: $0) } }

    /// A declared `.time` option in ms since the epoch.
    func time(_ name: String) -> Int64? { string(name).flatMap(Option.parseTime) }

    /// The exclusive upper bound for an inclusive `--end`-style option, the one meaning of `--end` in every
    /// command: a date includes that whole day (`--end 2024-01-31` ends at 2024-02-01T00:00Z, excluded), a time
    /// includes that instant (bars stamped at it are kept).
    func inclusiveEnd(_ name: String) -> Int64? {
        guard let text = string(name), let t = Option.parseTime(text) else { return nil }
        let dateOnly = text.count == 10 && !text.contains(":") && !text.contains("T")
        let step = dateOnly ? UTCTime.msPerDay : 1
        return t > Int64.max - step ? Int64.max : t + step
    }

    /// A declared `.list` option: every item of every occurrence, or the default's items.
    func list(_ name: String) -> [String]? {
        let values = given[name] ?? string(name).map { [$0] }
        return values?.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}
