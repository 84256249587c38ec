import Common
import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `aitrader <command> [subcommand] [--options]` — see `aitrader help`.
let words = Array(CommandLine.arguments.dropFirst())

/// Keeps freed column-sized buffers (a 1M-bar column is 8 MB) in the heap for reuse instead of handing them back
/// to the kernel: glibc would otherwise mmap/munmap every such array, and each fresh mapping costs a page fault and
/// a page clear per 4 KiB when first written (about a third of the time of a full feature computation). Memory
/// freed above the top of the heap is returned only past 1 GiB.
func tuneAllocatorForLargeArrays() {
    #if os(Linux)
    let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, arenaMax: Int32 = -8   // <malloc.h> M_* constants
    _ = glibcMallopt(arenaMax, 1)   // one heap for all threads (a per-thread arena's 64 MB heaps cannot hold columns)
    _ = glibcMallopt(mmapThreshold, 32 << 20)   // glibc's maximum: arrays up to 32 MB come from the heap
    _ = glibcMallopt(trimThreshold, 1 << 30)
    #endif
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)` (<malloc.h> is not part of the Glibc module).
@_silgen_name("mallopt") func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif
tuneAllocatorForLargeArrays()

/// Prints a usage error: one line, then where the help is; exit 64.
func usageFailure(_ message: String, help: String) -> Never {
    writeError("aitrader: \(UntrustedText.sanitized(message, limit: 4000))\nRun '\(help)' for usage.\n")
    exit(ExitStatus.usage)
}

let commands = CommandRegistry.all
switch Router.route(words, commands: commands) {
case .topHelp:
    print(Help.top(commands), terminator: "")
case .version:
    print("aitrader \(AITraderVersion.string)")
case .groupHelp(let prefix):
    print(Help.group(prefix, commands.filter { $0.path.starts(with: prefix) }), terminator: "")
case .commandHelp(let command):
    print(Help.command(command), terminator: "")
case .unknown(let message, let help):
    usageFailure(message, help: help)
case .run(let command, let rest):
    let values: OptionValues
    do {
        values = try OptionValues(rest, options: command.options, positionalAllowed: !command.arguments.isEmpty)
    } catch {
        writeError("aitrader \(command.name): \(UntrustedText.sanitized(ExitStatus.message(error), limit: 4000))\n"
                   + "Run 'aitrader \(command.name) --help' for usage.\n")
        exit(ExitStatus.usage)
    }
    if values.wantsHelp {
        print(Help.command(command), terminator: "")
        exit(ExitStatus.success)
    }
    if values.flag("quiet") { ProgressReporter.silenceAll() }
    do {
        if values.isGiven("device") || values.isGiven("threads") {
            _ = try Devices.select(device: values.string("device") ?? "auto", threads: values.int("threads"))
        }
        try await command.run(values)
    } catch {
        let status = ExitStatus.of(error)
        var text = "aitrader \(command.name): " + (status == ExitStatus.usage ? "" : "error: ")
            + UntrustedText.sanitized(ExitStatus.message(error), limit: 4000) + "\n"
        if status == ExitStatus.usage { text += "Run 'aitrader \(command.name) --help' for usage.\n" }
        writeError(text)
        exit(status)
    }
}
exit(ExitStatus.success)
