import Common
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

func printHelp() {
    var text = "aitrader — market data, features, forecasting models, backtests and trading in one binary.\n\n"
    text += "Usage: aitrader <command> [options]\n\nCommands:\n"
    for command in CommandRegistry.all {
        let name = command.path.joined(separator: " ")
        text += "  " + name.padding(toLength: 26, withPad: " ", startingAt: 0) + command.summary + "\n"
    }
    text += "\nGlobal options: --device auto|cpu|cuda, --threads N. 'aitrader help <command>' shows a command's options.\n"
    print(text, terminator: "")
}

/// The longest registered path that prefixes the words selects the command.
func resolve(_ words: [String]) -> (AITraderCommand.Type, [String])? {
    let matches = CommandRegistry.all.filter { words.starts(with: $0.path) }
    guard let best = matches.max(by: { $0.path.count < $1.path.count }) else { return nil }
    return (best, Array(words.dropFirst(best.path.count)))
}

if words.isEmpty || words == ["help"] || words == ["--help"] || words == ["-h"] {
    printHelp()
    exit(0)
}
if words.first == "help" {
    if let (command, _) = resolve(Array(words.dropFirst())) {
        print(command.usage)
        exit(0)
    }
    printHelp()
    exit(64)
}
guard let (command, rest) = resolve(words) else {
    writeError("aitrader: unknown command '\(words.joined(separator: " "))'. Run 'aitrader help'.\n")
    exit(64)
}
do {
    let arguments = try ParsedArguments(rest)
    try await command.run(arguments)
} catch let error as UsageError {
    writeError("aitrader \(command.path.joined(separator: " ")): \(error.description)\n\n\(command.usage)\n")
    exit(64)
} catch {
    writeError("aitrader \(command.path.joined(separator: " ")): error: \(error)\n")
    exit(1)
}
