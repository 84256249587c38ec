import Common
import Foundation
import MarketData

/// One option of a command, declared once: its name, what its value must be, its default and its help line.
/// Parsing, validation, `--help` and usage errors are all generated from these declarations (the shape of
/// swift-argument-parser's `@Option`, without the dependency).
///
///     Option("cash", .number(.positive), "AMOUNT", "starting cash", default: "10000")
///     Option("symbol", .list, "SYMBOL[,SYMBOL...]", "symbols to backtest", required: true)
///     Option("json", .flag, "print JSON")
struct Option: Sendable {
    /// What a value must be; checked when the command line is parsed (a bad value is a usage error, exit 64).
    enum Value: Sendable {
        /// No value: present or not.
        case flag
        /// Any non-empty text.
        case text
        /// A whole number within the range.
        case integer(ClosedRange<Int>)
        /// A finite number obeying the rule.
        case number(NumberRule)
        /// One of these words.
        case choice([String])
        /// A timeframe (1m, 5m, 1h, 4h, 1d, 1w, ...).
        case timeframe
        /// A time: 2024-01-31, 2024-01-31T12:00:00Z, 2024-01-31 12:00, epoch seconds or ms, `now`.
        case time
        /// A comma-separated list of non-empty words (the option may also be repeated).
        case list
    }

    /// The rule a `.number` value obeys.
    enum NumberRule: Sendable {
        case any, positive, nonNegative
        /// In [0, 1).
        case fraction

        func accepts(_ v: Double) -> Bool {
            switch self {
            case .any: return true
            case .positive: return v > 0
            case .nonNegative: return v >= 0
            case .fraction: return v >= 0 && v < 1
            }
        }

        var requirement: String {
            switch self {
            case .any: return "a number"
            case .positive: return "a number > 0"
            case .nonNegative: return "a number >= 0"
            case .fraction: return "a fraction in [0, 1)"
            }
        }
    }

    let name: String
    let value: Value
    let valueName: String
    let help: String
    /// The value used when the option is absent (shown in help); nil: absent means absent.
    let defaultValue: String?
    let required: Bool

    init(_ name: String, _ value: Value, _ valueName: String = "", _ help: String, default defaultValue: String? = nil,
         required: Bool = false) {
        self.name = name
        self.value = value
        self.valueName = valueName.isEmpty ? Self.defaultValueName(value) : valueName
        self.help = help
        self.defaultValue = defaultValue
        self.required = required
    }

    /// A flag: `Option(flag: "json", "print JSON")`.
    init(flag name: String, _ help: String) {
        self.init(name, .flag, "", help)
    }

    static func defaultValueName(_ value: Value) -> String {
        switch value {
        case .flag: return ""
        case .text: return "TEXT"
        case .integer: return "N"
        case .number: return "X"
        case .choice(let words): return words.joined(separator: "|")
        case .timeframe: return "TF"
        case .time: return "TIME"
        case .list: return "A,B,..."
        }
    }

    /// Checks one value against the declaration; returns nil when it is acceptable, else the reason.
    func problem(with text: String) -> String? {
        switch value {
        case .flag:
            return ["true", "false", "1", "0", "yes", "no"].contains(text.lowercased()) ? nil
                : "--\(name) is a flag and takes no value (got '\(text)')"
        case .text:
            return text.isEmpty ? "--\(name) needs a value" : nil
        case .integer(let range):
            guard let v = Int(text) else { return "--\(name) expects a whole number, got '\(text)'" }
            return range.contains(v) ? nil : "--\(name) must be in \(Self.describe(range)), got \(v)"
        case .number(let rule):
            guard let v = Double(text), v.isFinite else { return "--\(name) expects a number, got '\(text)'" }
            return rule.accepts(v) ? nil : "--\(name) must be \(rule.requirement), got \(text)"
        case .choice(let words):
            return words.contains(text) ? nil
                : "--\(name) must be one of \(words.joined(separator: ", ")), got '\(text)'"
        case .timeframe:
            do { _ = try Timeframe(parsing: text); return nil } catch {
                return "--\(name): \(error) (e.g. 1m, 5m, 15m, 1h, 4h, 1d, 1w)"
            }
        case .time:
            return Option.parseTime(text) == nil
                ? "--\(name): cannot read '\(text)' as a time (2024-01-31, 2024-01-31T12:00:00Z, epoch seconds, now)"
                : nil
        case .list:
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return items.isEmpty || items.contains(where: \.isEmpty) ? "--\(name) expects A,B,... with no empty item, got '\(text)'" : nil
        }
    }

    /// `now`, or any date form `UTCTime.parse` reads; milliseconds since the epoch.
    static func parseTime(_ text: String) -> Int64? {
        if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
        if let parsed = DateFormat.auto.parse(Array(text.utf8)[...]) { return parsed.milliseconds }
        return UTCTime.parse(text)
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return ">= \(range.lowerBound)" }
        return "\(range.lowerBound)...\(range.upperBound)"
    }

    /// The help column: `--name VALUE`.
    var signature: String { value.isFlag ? "--\(name)" : "--\(name) \(valueName)" }
}

extension Option.Value {
    var isFlag: Bool { if case .flag = self { return true } else { return false } }
}

/// Options every command accepts (applied before the command runs; see `GlobalOptions.apply`).
enum GlobalOptions {
    static let all: [Option] = [
        Option("device", .choice(["auto", "cpu", "cuda"]), "", "compute backend for model and engine work",
               default: "auto"),
        Option("threads", .integer(1 ... 256), "N", "CPU threads for this command's computations (default: all cores)"),
        Option(flag: "quiet", "no progress reports (and, where a command says so, no summary)"),
        Option(flag: "help", "show this help"),
    ]
    static let names = Set(all.map(\.name))
}
