import Common

/// Conversion between `BarSeries` and Parquet tables.
///
/// The store's own files hold `timestamp` (INT64, TIMESTAMP(MILLIS, UTC) = bar open time) and `open high low
/// close volume` (DOUBLE), all REQUIRED, plus key/value metadata `aitrader.symbol` and `aitrader.timeframe`.
/// pyarrow reads them as `timestamp[ms, tz=UTC]` and `double`.
///
/// Reading accepts what pandas/pyarrow write too: the time column is the pandas index (`__index_level_0__` or a
/// named index, found through the `pandas` metadata), or a column named timestamp/time/datetime/date, in ms, us or
/// ns, UTC-adjusted or naive (taken as UTC); OHLCV columns match case-insensitively and may be any numeric type.
///
///     let table = series.parquetTable()
///     let back = try BarSeries(parquet: try ParquetReader(path: "x.parquet").readAll(), symbol: "EURUSD", timeframe: .h1)
extension BarSeries {
    public static let parquetColumnNames = ["timestamp", "open", "high", "low", "close", "volume"]

    public func parquetTable() -> ParquetTable {
        ParquetTable([
            .timestamps("timestamp", timestamps.array, unit: .milliseconds, utc: true),
            .doubles("open", open.array),
            .doubles("high", high.array),
            .doubles("low", low.array),
            .doubles("close", close.array),
            .doubles("volume", volume.array),
        ], metadata: ["aitrader.symbol": symbol, "aitrader.timeframe": timeframe.rawValue])
    }

    /// Builds a series from a table (see the type's notes for the accepted layouts). `file` names the source in
    /// errors; `symbol`/`timeframe` default to the table's `aitrader.*` metadata when nil.
    public init(parquet table: ParquetTable, symbol: String? = nil, timeframe: Timeframe? = nil, file: String = "<parquet>")
        throws(DataError)
    {
        guard let symbol = symbol ?? table.metadata["aitrader.symbol"] else {
            throw DataError(file: file, reason: "no symbol given and no 'aitrader.symbol' metadata in the file")
        }
        let tf: Timeframe
        if let timeframe {
            tf = timeframe
        } else if let raw = table.metadata["aitrader.timeframe"], let parsed = try? Timeframe(parsing: raw) {
            tf = parsed
        } else {
            throw DataError(file: file, reason: "no timeframe given and no 'aitrader.timeframe' metadata in the file")
        }
        let timeColumn = try Self.timeColumn(in: table, file: file)
        guard let ms = timeColumn.epochMilliseconds ?? timeColumn.int64s else {
            throw DataError(file: file, field: timeColumn.name, reason: "time column is not INT64")
        }
        if let row = timeColumn.validity?.firstIndex(of: false) {
            throw DataError(file: file, line: row, field: timeColumn.name, reason: "null timestamp in row \(row)")
        }
        func numbers(_ name: String, required: Bool = true) throws(DataError) -> [Double]? {
            guard let c = table.columns.first(where: { $0.name.lowercased() == name }) else {
                if required {
                    throw DataError(file: file, field: name, reason: "missing column (columns: \(table.columnNames.joined(separator: ", ")))")
                }
                return nil
            }
            guard let v = c.numericDoubles else {
                throw DataError(file: file, field: c.name, reason: "column is \(c.physicalType), not numeric")
            }
            if let row = c.validity?.firstIndex(of: false) {
                throw DataError(file: file, line: row, field: c.name, reason: "null value in row \(row)")
            }
            return v
        }
        let o = try numbers("open")!, h = try numbers("high")!, l = try numbers("low")!, c = try numbers("close")!
        let v = try numbers("volume", required: false) ?? Array(repeating: 0, count: ms.count)
        self.init(symbol: symbol, timeframe: tf, timestamps: ms, open: o, high: h, low: l, close: c, volume: v)
    }

    /// The time column: pandas index column, then well-known names, then the first timestamp-typed column.
    static func timeColumn(in table: ParquetTable, file: String) throws(DataError) -> ParquetColumn {
        if let pandas = table.metadata["pandas"], let name = pandasIndexColumn(pandas), let c = table[name] { return c }
        for name in ["timestamp", "time", "datetime", "date", "__index_level_0__"] {
            if let c = table.columns.first(where: { $0.name.lowercased() == name }) { return c }
        }
        if let c = table.columns.first(where: { $0.timestampUnit != nil }) { return c }
        throw DataError(file: file, field: "timestamp", reason: "no time column (columns: \(table.columnNames.joined(separator: ", ")))")
    }

    /// The first entry of `"index_columns": ["..."]` in pandas metadata, when it is a column name (a RangeIndex
    /// is described by an object instead, and has no column).
    static func pandasIndexColumn(_ json: String) -> String? {
        guard let key = json.range(of: "\"index_columns\"") else { return nil }
        var rest = json[key.upperBound...].drop { $0 == " " || $0 == ":" }
        guard rest.first == "[" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
