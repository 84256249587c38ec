import Common
import Foundation

/// A `DataSource` over CSV files: one explicit file, or a directory searched for `<SYMBOL>_<tf>.csv` (any
/// timeframe spelling: `EURUSD_H1.csv`, `EURUSD_1h.csv`) or MetaTrader's `<SYMBOL><TF>.csv` (`EURUSDH1.csv`).
/// When no file has the requested timeframe, a finer one is resampled.
///
///     let source = CSVSource(directory: "data/sample")
///     let daily = try await source.fetchOHLCV(symbol: "EURUSD", timeframe: .d1, start: from, end: to)  // from H1
public struct CSVSource: DataSource {
    public let name = "csv"
    public var directory: String?
    public var files: [String: String]
    public var format: CSVFormat
    public var bins: BinCalendar

    /// A directory of CSV files.
    public init(directory: String, format: CSVFormat = CSVFormat(), bins: BinCalendar = .utc) {
        self.directory = directory
        files = [:]
        self.format = format
        self.bins = bins
    }

    /// One file holding `symbol` at `timeframe`.
    public init(file: String, symbol: String, timeframe: Timeframe, format: CSVFormat = CSVFormat(),
                bins: BinCalendar = .utc) {
        directory = nil
        files = [Self.key(symbol, timeframe): file]
        self.format = format
        self.bins = bins
    }

    static func key(_ symbol: String, _ tf: Timeframe) -> String { "\(symbol)|\(tf)" }

    /// (symbol, timeframe, path) of every recognisable CSV file.
    public func inventory() -> [(symbol: String, timeframe: Timeframe, path: String)] {
        var out: [(String, Timeframe, String)] = []
        for (key, path) in files {
            let parts = key.split(separator: "|")
            if parts.count == 2, let tf = Timeframe(rawValue: String(parts[1])) { out.append((String(parts[0]), tf, path)) }
        }
        if let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names.sorted() where name.lowercased().hasSuffix(".csv") || name.lowercased().hasSuffix(".txt") {
                if let (symbol, tf) = Self.parseFileName(String(name.dropLast(4))) {
                    out.append((symbol, tf, directory + "/" + name))
                }
            }
        }
        return out.map { (symbol: $0.0, timeframe: $0.1, path: $0.2) }
    }

    /// `EURUSD_H1` -> (EURUSD, 1h); `EURUSDH1` -> (EURUSD, 1h); `GOOG_1d` -> (GOOG, 1d).
    public static func parseFileName(_ stem: String) -> (String, Timeframe)? {
        if let underscore = stem.lastIndex(of: "_") {
            let symbol = String(stem[..<underscore])
            if !symbol.isEmpty, let tf = try? Timeframe(parsing: String(stem[stem.index(after: underscore)...])) {
                return (symbol, tf)
            }
        }
        for suffix in ["MN1", "M15", "M30", "M1", "M5", "H1", "H4", "D1", "W1"] where stem.hasSuffix(suffix) {
            let symbol = String(stem.dropLast(suffix.count))
            if !symbol.isEmpty, let tf = try? Timeframe(parsing: suffix) { return (symbol, tf) }
        }
        return nil
    }

    public func fetchOHLCV(symbol: String, timeframe: Timeframe, start: Int64, end: Int64)
        async throws(SourceError) -> BarSeries
    {
        try checkRange(start, end)
        return try load(symbol: symbol, timeframe: timeframe).slice(from: start, to: end)
    }

    public func latest(symbol: String, timeframe: Timeframe, count: Int) async throws(SourceError) -> BarSeries {
        let all = try load(symbol: symbol, timeframe: timeframe)
        return all[max(0, all.count - max(0, count))..<all.count]
    }

    public func supportedSymbols() async throws(SourceError) -> [String] {
        Array(Set(inventory().map(\.symbol))).sorted()
    }

    /// The whole file for `symbol` at `timeframe`, or a finer file resampled.
    func load(symbol: String, timeframe: Timeframe) throws(SourceError) -> BarSeries {
        let candidates = inventory().filter { $0.symbol == symbol }
        if let exact = candidates.first(where: { $0.timeframe == timeframe }) {
            return try read(exact.path, symbol, timeframe)
        }
        guard let finer = candidates.filter({ TimeframeTransformer.canResample(from: $0.timeframe, to: timeframe) })
            .max(by: { $0.timeframe < $1.timeframe }) else {
            let have = candidates.map { "\($0.timeframe)" }.joined(separator: ", ")
            throw .invalidRequest("no CSV file for \(symbol) at \(timeframe) or finer"
                                  + (have.isEmpty ? "" : " (have: \(have))"))
        }
        let bars = try read(finer.path, symbol, finer.timeframe)
        do {
            return try TimeframeTransformer(calendar: bins).resample(bars, to: timeframe)
        } catch {
            throw .invalidRequest(error.description)
        }
    }

    private func read(_ path: String, _ symbol: String, _ tf: Timeframe) throws(SourceError) -> BarSeries {
        do {
            return try CSVBarReader(format: format).read(path: path, symbol: symbol, timeframe: tf)
        } catch {
            throw .data(error)
        }
    }
}
