/// Every suite `aitrader bench` knows, by name. Add one line per suite.
public enum BenchSuites {
    public static let all: [BenchSuite.Type] = [
        BacktestSuite.self,
        ModelsSuite.self,
        KernelsSuite.self,
        DataSuite.self,
        IndicatorsSuite.self,
        TrainingSuite.self,
        PredictionSuite.self,
        RobotSuite.self,
        EnsembleBacktestSuite.self,
        ServeSuite.self,
    ]

    public static func named(_ name: String) -> BenchSuite.Type? {
        all.first { $0.name == name }
    }
}
