import Common
import Foundation
import Training

/// `aitrader runs list [--experiment NAME] [--limit N] [--json]`: the tracked training runs, newest first.
enum RunsListCommand: AITraderCommand {
    static let path = ["runs", "list"]
    static let summary = "list the tracked training runs (newest first)"
    static let options: [Option] = [
        Option("experiment", .text, "NAME", "only the runs of this experiment (e.g. train-short_term)"),
        Option("limit", .integer(1 ... Int.max), "N", "at most N runs", default: "50"),
        Option(flag: "json", "print JSON (an array of runs)"),
        DataContext.dataRootOption,
    ]
    static let discussion = """
        Reads <data-root>/runs/tracking.sqlite (written by `aitrader train`) without changing it. The table shows
        each run's id (any unique prefix names it in `runs show` and `runs compare`), experiment, status, start,
        duration, the model/symbol/timeframe tags and the last val_loss and val_accuracy.
        """

    static func run(_ values: OptionValues) async throws {
        let root = LocalTracker.root(dataRoot: try DataContext.dataRoot(values))
        let records = LocalTracker.exists(root: root)
            ? try LocalTracker(readOnlyRoot: root).runs(experiment: values.string("experiment"), limit: values.int("limit") ?? 50)
            : []
        if values.flag("json") {
            print(try RunsFormat.json(records.map { RunsFormat.object($0, metrics: nil) }))
            return
        }
        if records.isEmpty {
            print("no tracked runs in \(root)")
            return
        }
        var rows = [["RUN", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "MODEL", "SYMBOL", "TF", "VAL_LOSS", "VAL_ACC"]]
        for r in records {
            rows.append([String(r.id.prefix(12)), r.experiment, r.status.rawValue, RunsFormat.time(r.startTime),
                         RunsFormat.duration(r), r.tags["model_type"] ?? "-", r.tags["symbol"] ?? "-", r.tags["timeframe"] ?? "-",
                         RunsFormat.number(r.latestMetrics["val_loss"]), RunsFormat.number(r.latestMetrics["val_accuracy"])])
        }
        print(RunsFormat.table(rows), terminator: "")
    }
}

/// `aitrader runs show RUN [--json]`: one run's params, tags, metrics per step and artifacts.
enum RunsShowCommand: AITraderCommand {
    static let path = ["runs", "show"]
    static let summary = "show one tracked run: params, tags, metrics per epoch, artifacts"
    static let arguments = "RUN"
    static let options: [Option] = [
        Option(flag: "json", "print JSON (the run with its full metric history)"),
        DataContext.dataRootOption,
    ]
    static let discussion = "RUN is a run id or a unique prefix of one (as `aitrader runs list` shows)."

    static func run(_ values: OptionValues) async throws {
        guard values.positional.count == 1 else { throw UsageError("runs show takes one RUN (got \(values.positional.count))") }
        let store = try LocalTracker(readOnlyRoot: LocalTracker.root(dataRoot: try DataContext.dataRoot(values)))
        let record = try store.run(values.positional[0])
        let history = try store.metrics(runID: record.id)
        if values.flag("json") {
            print(try RunsFormat.json(RunsFormat.object(record, metrics: history)))
            return
        }
        print("run \(record.id)  \(record.name)")
        print("  experiment  \(record.experiment)")
        print("  status      \(record.status.rawValue)")
        print("  started     \(RunsFormat.time(record.startTime))" + (record.endTime.map { "  ended \(RunsFormat.time($0))" } ?? ""))
        print("  artifacts   \(record.artifactDirectory)")
        print("tags:")
        for (k, v) in record.tags.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(v)") }
        print("params:")
        for (k, v) in record.params.sorted(by: { $0.key < $1.key }) { print("  \(k) = \(v)") }
        let keys = Array(Set(history.map(\.key))).sorted()
        if !keys.isEmpty {
            print("metrics:")
            var byStep: [Int: [String: Double]] = [:]
            for m in history { byStep[m.step, default: [:]][m.key] = m.value }
            var rows = [["STEP"] + keys]
            for step in byStep.keys.sorted() { rows.append([String(step)] + keys.map { RunsFormat.number(byStep[step]?[$0]) }) }
            print(RunsFormat.table(rows, indent: "  "), terminator: "")
        }
        if !record.artifacts.isEmpty {
            print("artifact files:")
            for a in record.artifacts { print("  \(a)") }
        }
    }
}

/// `aitrader runs compare RUN RUN... [--all] [--json]`: runs side by side.
enum RunsCompareCommand: AITraderCommand {
    static let path = ["runs", "compare"]
    static let summary = "compare tracked runs side by side: status, tags, params that differ, last metrics"
    static let arguments = "RUN RUN..."
    static let options: [Option] = [
        Option(flag: "all", "every param, not only those that differ"),
        Option(flag: "json", "print JSON (an array of runs)"),
        DataContext.dataRootOption,
    ]
    static let discussion = "Each RUN is a run id or a unique prefix of one (as `aitrader runs list` shows)."

    static func run(_ values: OptionValues) async throws {
        guard values.positional.count >= 2 else {
            throw UsageError("runs compare takes two or more RUNs (got \(values.positional.count))")
        }
        let store = try LocalTracker(readOnlyRoot: LocalTracker.root(dataRoot: try DataContext.dataRoot(values)))
        var records: [TrackedRunRecord] = []
        for id in values.positional { records.append(try store.run(id)) }
        if values.flag("json") {
            print(try RunsFormat.json(records.map { RunsFormat.object($0, metrics: nil) }))
            return
        }
        var rows = [["", ] + records.map { String($0.id.prefix(12)) }]
        rows.append(["experiment"] + records.map(\.experiment))
        rows.append(["name"] + records.map(\.name))
        rows.append(["status"] + records.map(\.status.rawValue))
        rows.append(["started"] + records.map { RunsFormat.time($0.startTime) })
        rows.append(["duration"] + records.map(RunsFormat.duration))
        let tagKeys = Set(records.flatMap(\.tags.keys)).sorted()
        for k in tagKeys { rows.append(["tag \(k)"] + records.map { $0.tags[k] ?? "-" }) }
        let paramKeys = Set(records.flatMap(\.params.keys)).sorted()
        for k in paramKeys {
            let cells = records.map { $0.params[k] ?? "-" }
            if values.flag("all") || Set(cells).count > 1 { rows.append(["param \(k)"] + cells) }
        }
        let metricKeys = Set(records.flatMap(\.latestMetrics.keys)).sorted()
        for k in metricKeys { rows.append(["\(k) (last)"] + records.map { RunsFormat.number($0.latestMetrics[k]) }) }
        print(RunsFormat.table(rows), terminator: "")
    }
}
