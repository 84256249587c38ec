import MarketData

/// Writes a `FeatureFrame` as Parquet: `timestamp` (TIMESTAMP(MILLIS, UTC)) then one DOUBLE column per feature
/// (NaN during warm-up), zstd; the warm-up lengths go in the key-value metadata (`aitrader.features.lookbacks`).
/// pandas/pyarrow read it directly.
///
///     try FeatureFrameParquet.write(frame, to: "out.parquet")
public enum FeatureFrameParquet {
    public static func table(_ frame: FeatureFrame, metadata: [String: String] = [:]) -> ParquetTable {
        var columns: [ParquetColumn] = [.timestamps("timestamp", frame.timestamps)]
        for (name, values) in zip(frame.names, frame.columns) { columns.append(.doubles(name, values)) }
        var meta = metadata
        meta["aitrader.features.lookbacks"] = frame.lookbacks.map(String.init).joined(separator: ",")
        return ParquetTable(columns, metadata: meta)
    }

    public static func write(_ frame: FeatureFrame, to path: String, rowGroupRows: Int = 65_536,
                             metadata: [String: String] = [:]) throws(ParquetError) {
        var options = ParquetWriteOptions()
        options.rowGroupRows = rowGroupRows
        try ParquetWriter(options: options).write(table(frame, metadata: metadata), to: path)
    }

    /// Reads a frame written by `write` (or any table with a `timestamp` column and DOUBLE feature columns).
    public static func read(path: String) throws -> FeatureFrame {
        let reader = try ParquetReader(path: path)
        let table = try reader.readAll()
        guard let timestamps = table["timestamp"]?.epochMilliseconds else {
            throw FeatureError(location: path, reason: "no timestamp column")
        }
        let names = table.columnNames.filter { $0 != "timestamp" }
        let lookbacks = (reader.keyValueMetadata["aitrader.features.lookbacks"] ?? "").split(separator: ",").compactMap { Int($0) }
        var frame = FeatureFrame(timestamps: timestamps)
        for (k, name) in names.enumerated() {
            guard let values = table[name]?.numericDoubles else {
                throw FeatureError(location: path, reason: "column \(name) is not numeric")
            }
            frame.append(name: name, values: values, lookback: lookbacks.count == names.count ? lookbacks[k] : 0)
        }
        return frame
    }
}
