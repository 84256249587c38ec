import Common
import Foundation
import MarketData

/// `aitrader data delete --symbol S --timeframe TF`: removes a stored dataset (file, quarantine files, catalogue
/// entry) in one crash-safe step.
enum DataDeleteCommand: AITraderCommand {
    static let path = ["data", "delete"]
    static let summary = "delete a stored dataset (its file and catalogue entry)"
    static let options: [Option] = [
        Option("symbol", .text, "SYMBOL", "the dataset's symbol", required: true),
        Option("timeframe", .timeframe, "", "the dataset's timeframe", required: true),
    ] + DataContext.options
    static let discussion = """
        The catalogue entry goes first, with a note of the files to remove, in one transaction; the files follow. A
        delete interrupted by a crash is finished by the next command that opens the store for writing.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        guard let timeframe = values.timeframe("timeframe") else { throw UsageError("missing required option --timeframe") }
        _ = try context.readOnlyStore()   // no store here: say so instead of creating one to delete from
        print(try context.store().delete(symbol: values.string("symbol") ?? "", timeframe: timeframe))
    }
}

/// `aitrader data repair`: makes the catalogue agree with the files on disk.
enum DataRepairCommand: AITraderCommand {
    static let path = ["data", "repair"]
    static let summary = "rebuild the catalogue from the stored files; set damaged files aside"
    static let options: [Option] = DataContext.options
    static let discussion = """
        Reads every stored file: rows, range and checksum come from the file itself; a catalogue entry whose file is
        missing is dropped; a file that cannot be read is moved to <store>/damaged/ (never deleted) and its entry
        dropped; a good file without an entry is added; leftover temporary files are removed. Then re-import a
        dropped dataset with `aitrader data import --csv FILE --replace`.
        """

    static func run(_ values: OptionValues) async throws {
        let context = try DataContext(values)
        _ = try context.readOnlyStore()   // no store here: say so instead of creating an empty one
        print(try context.store().repair())
    }
}
