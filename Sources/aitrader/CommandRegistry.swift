/// Every `aitrader` command, in the order `aitrader help` lists them. Add one line per command.
enum CommandRegistry {
    static let all: [AITraderCommand.Type] = [
        BenchCommand.self,
        DataImportCommand.self,
        DataFetchCommand.self,
        DataUpdateCommand.self,
        DataListCommand.self,
        DataShowCommand.self,
        DataValidateCommand.self,
        DataDeleteCommand.self,
        DataRepairCommand.self,
        DataCompactCommand.self,
        BacktestCommand.self,
        IndicatorsListCommand.self,
        IndicatorsComputeCommand.self,
        FeaturesComputeCommand.self,
        FeaturesShowCommand.self,
        DevicesCommand.self,
        ModelForwardCommand.self,
        TrainCommand.self,
        TuneCommand.self,
        RunsListCommand.self,
        RunsShowCommand.self,
        RunsCompareCommand.self,
        EvaluateCommand.self,
        PredictCommand.self,
    ]
}
