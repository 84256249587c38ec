import MarketData

/// equity.parquet and trades.parquet: the same rows as equity.csv and trades.csv, with TIMESTAMP(MILLIS, UTC)
/// time columns and DOUBLE values (pyarrow/pandas read them directly).
extension ResultFiles {
    public func equityTable() -> ParquetTable {
        var peak = -Double.infinity
        let drawdown = result.equity.map { e -> Double in peak = max(peak, e); return peak > 0 ? e / peak - 1 : 0 }
        return ParquetTable([
            .timestamps("time", result.barTimes), .doubles("equity", result.equity), .doubles("cash", result.cash),
            .doubles("drawdown", drawdown), .doubles("exposure", result.exposure),
        ], metadata: ["aitrader.strategy": result.strategy])
    }

    public func tradesTable() -> ParquetTable {
        let t = result.trades
        return ParquetTable([
            .timestamps("entry_time", t.map(\.entryTime)), .timestamps("exit_time", t.map(\.exitTime)),
            .strings("side", t.map { $0.isLong ? "long" : "short" }), .doubles("size", t.map { abs($0.size) }),
            .doubles("entry_price", t.map(\.entryPrice)), .doubles("exit_price", t.map(\.exitPrice)),
            .doubles("pnl", t.map(\.pnl)), .doubles("commission", t.map(\.commission)),
            .strings("symbol", t.map(\.symbol)), .doubles("return", t.map(\.returnFraction)),
            .strings("exit_reason", t.map(\.exitReason)),
        ], metadata: ["aitrader.strategy": result.strategy])
    }

    /// Writes equity.parquet and trades.parquet into `directory`; returns their paths.
    public func writeParquet(to directory: String) throws(ParquetError) -> [String] {
        let writer = ParquetWriter()
        let equityPath = directory + "/equity.parquet", tradesPath = directory + "/trades.parquet"
        try writer.write(equityTable(), to: equityPath)
        try writer.write(tradesTable(), to: tradesPath)
        return [equityPath, tradesPath]
    }
}
