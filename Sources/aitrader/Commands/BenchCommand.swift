import Benchmarks

/// `aitrader bench --suite kernels|models|data|indicators|backtest [--json] [--device D] [--threads N] [--quick] [--filter TEXT]`
enum BenchCommand: AITraderCommand {
    static let path = ["bench"]
    static let summary = "run a benchmark suite (JSON with --json)"
    static var usage: String {
        """
        Usage: aitrader bench --suite NAME [--json] [--device auto|cpu|cuda] [--threads N] [--quick] [--filter TEXT]
          suites: \(BenchSuites.all.map { $0.name }.joined(separator: ", "))
          Prints the median time of each named piece of work (format: shared/design/benchmarks.md).
          --filter TEXT runs only the benchmarks whose name (or "name B=N") contains TEXT (models suite),
          e.g. short_term_infer, or "long_term_infer B=1" for batch 1 only.
        """
    }

    static func run(_ arguments: ParsedArguments) async throws {
        let name = try arguments.require("suite")
        let json = arguments.flag("json")
        let options = BenchOptions(device: arguments.string("device") ?? "auto", threads: try arguments.int("threads"),
                                   quick: arguments.flag("quick"), filter: arguments.string("filter"))
        try arguments.finish()
        guard let suite = BenchSuites.named(name) else {
            throw UsageError("unknown suite '\(name)'; known: \(BenchSuites.all.map { $0.name }.joined(separator: ", "))")
        }
        let report = try await suite.run(options)
        print(json ? report.json() : report.table(), terminator: json ? "\n" : "")
    }
}
