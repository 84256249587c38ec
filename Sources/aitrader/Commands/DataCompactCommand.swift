import Common
import Foundation
import MarketData

/// `aitrader data compact [--symbol S --timeframe TF]`: merges each dataset's part files into a new base file.
enum DataCompactCommand: AITraderCommand {
    static let path = ["data", "compact"]
    static let summary = "merge the part files that appends wrote into one base file per dataset"
    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "only this symbol's datasets"),
        Option("timeframe", .timeframe, "", "only datasets of this timeframe"),
    ] + DataContext.options
    static let discussion = """
        Every append of bars after a dataset's last bar writes one small part file, so an append costs the same on a
        dataset of any size. Reads merge the parts on the fly; compaction rewrites base and parts into one new base
        file. Appends do it themselves once a dataset has more than 64 parts; this command does it now, e.g. before
        copying a store. Each dataset is compacted in one crash-safe step: the new file is written, the catalogue
        switched to it in one transaction, then the old files removed (a kill at any point loses nothing; the next
        command that opens the store finishes or undoes it). Appends may run meanwhile.

        Examples:
          aitrader data compact
          aitrader data compact --symbol EURUSD --timeframe 1m
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        let symbol = values.string("symbol"), timeframe = values.timeframe("timeframe")
        let stored = try context.readOnlyStore().datasets()   // no store here: say so instead of creating one
        let chosen = stored.filter { (symbol == nil || $0.symbol == symbol) && (timeframe == nil || $0.timeframe == timeframe) }
        guard !chosen.isEmpty else {
            let what = [symbol, timeframe?.description].compactMap { $0 }.joined(separator: " ")
            throw CommandFailure("no stored dataset matches \(what.isEmpty ? "(the store is empty)" : what) in "
                + "\(context.storeRoot) (`aitrader data list` shows what is stored)")
        }
        let store = try context.store()
        for d in chosen { print(try store.compact(symbol: d.symbol, timeframe: d.timeframe)) }
    }
}
