import Benchmarks

/// `aitrader bench --suite kernels|models|data|indicators|backtest [--json] [--device D] [--threads N] [--quick] [--filter TEXT]`
enum BenchCommand: AITraderCommand {
    static let path = ["bench"]
    static let summary = "run a benchmark suite (JSON with --json)"
    static var options: [Option] {
        [
            Option("suite", .choice(BenchSuites.all.map { $0.name }), "", "which suite", required: true),
            Option(flag: "json", "print the JSON document (format: shared/design/benchmarks.md)"),
            Option(flag: "quick", "smaller sizes and fewer runs"),
            Option("filter", .text, "TEXT",
                   "only benchmarks whose name (or \"name B=N\") contains TEXT, e.g. \"long_term_infer B=1\""),
        ]
    }
    static let discussion = "Prints the median time of each named piece of work."

    static func run(_ values: OptionValues) async throws {
        let name = values.string("suite") ?? ""
        let json = values.flag("json")
        let options = BenchOptions(device: values.string("device") ?? "auto", threads: values.int("threads"),
                                   quick: values.flag("quick"), filter: values.string("filter"))
        guard let suite = BenchSuites.named(name) else {
            throw UsageError("unknown suite '\(name)'; known: \(BenchSuites.all.map { $0.name }.joined(separator: ", "))")
        }
        let report = try await suite.run(options)
        print(json ? report.json() : report.table(), terminator: json ? "\n" : "")
    }
}
