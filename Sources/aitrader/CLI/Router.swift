/// Which command (or help) a command line selects: the longest registered path that prefixes the words; a
/// prefix of registered paths alone is a group (`aitrader data`); `help X` and `X --help` print X's help.
enum Router {
    enum Route {
        case topHelp, version
        case groupHelp([String])
        case commandHelp(AITraderCommand.Type)
        case run(AITraderCommand.Type, [String])
        /// A usage error: the message and the help command to point at.
        case unknown(String, help: String)
    }

    static func route(_ words: [String], commands: [AITraderCommand.Type]) -> Route {
        if words.isEmpty || words == ["--help"] || words == ["-h"] || words == ["help"] { return .topHelp }
        if words == ["--version"] || words == ["version"] { return .version }
        if words.first == "help" {
            let rest = Array(words.dropFirst())
            if let command = commands.first(where: { $0.path == rest }) { return .commandHelp(command) }
            if isGroup(rest, commands) { return .groupHelp(rest) }
            return .unknown("no command '\(rest.joined(separator: " "))'", help: "aitrader help")
        }
        let matches = commands.filter { words.starts(with: $0.path) }
        if let best = matches.max(by: { $0.path.count < $1.path.count }) {
            return .run(best, Array(words.dropFirst(best.path.count)))
        }
        // The longest group the words start with: `aitrader data`, `aitrader data --help`, `aitrader data nope`.
        var prefix: [String] = []
        for word in words where !word.hasPrefix("-") {
            if isGroup(prefix + [word], commands) { prefix.append(word) } else { break }
        }
        if !prefix.isEmpty {
            let after = words.dropFirst(prefix.count)
            if after.isEmpty || after.allSatisfy({ $0 == "--help" || $0 == "-h" }) { return .groupHelp(prefix) }
            let group = prefix.joined(separator: " ")
            let known = commands.filter { $0.path.starts(with: prefix) }.map { $0.path[prefix.count] }
            return .unknown("'\(after.first ?? "")' is not a subcommand of '\(group)' (\(known.joined(separator: ", ")))",
                            help: "aitrader \(group) --help")
        }
        return .unknown("unknown command '\(words[0])'", help: "aitrader help")
    }

    /// True when some command's path starts with `prefix` and is longer than it.
    static func isGroup(_ prefix: [String], _ commands: [AITraderCommand.Type]) -> Bool {
        !prefix.isEmpty && commands.contains { $0.path.count > prefix.count && $0.path.starts(with: prefix) }
    }
}
