import Common
import Foundation
import MarketData
import Testing
@testable import Simulation

/// Every user-facing parameter of SimulationMode is a typed error naming the field, never a trap
/// (`ParameterError`, `BacktestError.invalidParameter`, `ConfigError` with file:line; risk profiles: RiskTests).
@Suite struct ParameterValidationTests {
    let bars = makeSeries((0..<60).map { i in
        let p = 100 + 10 * sin(Double(i) / 5)
        return (p, p + 1, p - 1, p + 0.5)
    })

    /// Runs sma_cross with `config`; returns the error's `ParameterError`, or nil when the run succeeded.
    func parameterError(_ config: BacktestConfig, strategy: SMACross = SMACross(fast: 5, slow: 10)) -> ParameterError? {
        var s = strategy
        do {
            _ = try Backtester(series: [bars], config: config).run(&s)
            return nil
        } catch {
            guard case .invalidParameter(let e) = error else {
                Issue.record("expected invalidParameter, got \(error)")
                return nil
            }
            return e
        }
    }

    @Test func cashMustBePositiveAndFinite() {
        for cash in [0, -100, .nan, .infinity] {
            let e = parameterError(BacktestConfig(cash: cash))
            #expect(e?.field == "cash", "cash \(cash)")
            #expect(e?.requirement == "must be > 0 and finite")
        }
        #expect("\(BacktestError.invalidParameter(parameterError(BacktestConfig(cash: -100))!))"
            == "invalid parameter: cash = -100: must be > 0 and finite")
        #expect(parameterError(BacktestConfig(cash: 1)) == nil)
    }

    @Test func negativeCommissionSlippageAndFeesAreRejected() {
        let cases: [(ExecutionModels, String)] = [
            (ExecutionModels(commission: .fractionOfNotional(-0.01)), "commission.rate"),
            (ExecutionModels(commission: .fractionOfNotional(1)), "commission.rate"),
            (ExecutionModels(commission: .fractionOfNotional(.nan)), "commission.rate"),
            (ExecutionModels(commission: .perUnit(-0.005, minimum: 1)), "commission.rate"),
            (ExecutionModels(commission: .perUnit(0.005, minimum: -1)), "commission.minimum"),
            (ExecutionModels(commission: .perLot(3.5, lotSize: 0, minimum: 0)), "commission.lot_size"),
            (ExecutionModels(commission: .perLot(3.5, lotSize: 100_000, minimum: -2)), "commission.minimum"),
            (ExecutionModels(slippage: .fixedBps(-1)), "slippage.bps"),
            (ExecutionModels(slippage: .fixedBps(10_000)), "slippage.bps"),
            (ExecutionModels(slippage: .halfSpread(-0.0001)), "slippage.spread"),
            (ExecutionModels(slippage: .atr(multiple: -0.1)), "slippage.multiple"),
            (ExecutionModels(slippage: .atr(multiple: 0.1, period: 0)), "slippage.period"),
            (ExecutionModels(latency: LatencyModel(milliseconds: -1)), "latency_ms"),
            (ExecutionModels(financing: FinancingModel(longRate: .nan, shortRate: 0)), "financing.long_rate"),
            (ExecutionModels(financing: FinancingModel(longRate: 0, shortRate: 0, rolloverHourUTC: 24)),
             "financing.rollover_hour_utc"),
            (ExecutionModels(maxVolumeParticipation: 0), "max_volume_participation"),
            (ExecutionModels(maxVolumeParticipation: 1.5), "max_volume_participation"),
            (ExecutionModels(maxLeverage: 0), "max_leverage"),
            (ExecutionModels(maxLeverage: -2), "max_leverage"),
            (ExecutionModels(maxLeverage: .infinity), "max_leverage"),
        ]
        for (models, field) in cases {
            #expect(parameterError(BacktestConfig(models: models))?.field == field, "\(models)")
        }
        // The limits themselves are valid: free trading, a negative financing rate (a credit), full participation.
        let ok = ExecutionModels(slippage: .fixedBps(0), commission: .fractionOfNotional(0),
                                 financing: FinancingModel(longRate: -0.01, shortRate: 0, rolloverHourUTC: 23),
                                 maxVolumeParticipation: 1, maxLeverage: 0.5)
        #expect(parameterError(BacktestConfig(models: ok)) == nil)
    }

    @Test func lookAheadAuditRange() {
        #expect(parameterError(BacktestConfig(lookAheadAudit: -1))?.field == "look_ahead_audit")
        #expect(parameterError(BacktestConfig(lookAheadAudit: .max))?.field == "look_ahead_audit")
    }

    @Test func smaCrossWindowsAndSizing() {
        let cases: [(SMACross, String)] = [
            (SMACross(fast: 0, slow: 10), "fast"),
            (SMACross(fast: -3, slow: 10), "fast"),
            (SMACross(fast: 10, slow: 10), "slow"),
            (SMACross(fast: 20, slow: 10), "slow"),
            (SMACross(fast: 5, slow: 60), "slow"),            // as long as the data: no crossover possible
            (SMACross(fast: 5, slow: 10, symbol: 1), "symbol"),
            (SMACross(fast: 5, slow: 10, positionFraction: 0), "position_fraction"),
            (SMACross(fast: 5, slow: 10, positionFraction: 1.5), "position_fraction"),
            (SMACross(fast: 5, slow: 10, stopATRMultiple: -2), "stop_atr_multiple"),
        ]
        for (s, field) in cases {
            #expect(parameterError(BacktestConfig(), strategy: s)?.field == field, "\(s.parameters)")
        }
        #expect(throws: ParameterError.self) { try SMACross(fast: 0, slow: 0).validate() }
        #expect(parameterError(BacktestConfig(), strategy: SMACross(fast: 5, slow: 59)) == nil)
    }

    @Test func badBarsAreTypedErrors() {
        let t0: Int64 = 1_704_067_200_000
        func run(_ b: [Bar]) -> BacktestError? {
            var s = ScriptedStrategy(script: [:])
            do {
                _ = try Backtester(series: [BarSeries(symbol: "X", timeframe: .h1, bars: b)],
                                   config: BacktestConfig()).run(&s)
                return nil
            } catch { return error }
        }
        let good = Bar(timestamp: t0, open: 1, high: 1, low: 1, close: 1, volume: 0)
        var zero = good; zero.timestamp += 3_600_000; zero.close = 0
        #expect(run([good, zero]) == .invalidBar(symbol: "X", index: 1, time: t0 + 3_600_000,
                                                 reason: "close = 0: prices must be > 0 and finite"))
        var nan = good; nan.timestamp += 3_600_000; nan.high = .nan
        if case .invalidBar(_, 1, _, let reason) = run([good, nan]) { #expect(reason.hasPrefix("high = nan")) } else {
            Issue.record("NaN high accepted")
        }
        #expect(run([good, good]) == .invalidBar(symbol: "X", index: 1, time: t0,
                                                 reason: "timestamp not after the previous bar's"))
        var negativeVolume = good; negativeVolume.timestamp += 3_600_000; negativeVolume.volume = -1
        if case .invalidBar(_, 1, _, _)? = run([good, negativeVolume]) {} else { Issue.record("volume -1 accepted") }
        #expect(run([good]) == nil)
    }

    @Test func latencyBeyondTheEndOfTimeSaturates() {
        #expect(LatencyModel(milliseconds: .max).activeFrom(decisionTime: 1_000) == .max)
        #expect(LatencyModel(milliseconds: 5).activeFrom(decisionTime: 1_000) == 1_005)
    }
}

/// The config loader applies the same checks, naming file:line:column and key.
@Suite struct ConfigValidationTests {
    func error(_ yaml: String) -> String? {
        do {
            _ = try SimulationConfig.parse(try YAMLNode.parse(yaml, file: "sim.yaml"))
            return nil
        } catch { return "\(error)" }
    }

    @Test func negativeAmountsAreRejectedWithTheirKey() {
        let cases: [(String, String)] = [
            ("execution:\n  commission: {model: fraction, rate: -0.01}\n",
             "sim.yaml:2:39: 'execution.commission.rate': a fraction of traded value must be >= 0 and < 1, got -0.01"),
            ("execution:\n  commission: {model: per_unit, rate: 0.005, minimum: -1}\n",
             "'execution.commission.minimum': must be >= 0 and finite, got -1"),
            ("execution:\n  commission: {model: per_lot, rate: -3.5}\n", "'execution.commission.rate'"),
            ("execution:\n  slippage: {model: fixed_bps, bps: -2}\n", "'execution.slippage.bps': must be >= 0"),
            ("execution:\n  slippage: {model: half_spread, spread: -0.1}\n", "'execution.slippage.spread'"),
            ("execution:\n  slippage: {model: atr, multiple: 0.1, period: 0}\n", "'execution.slippage.period'"),
            ("execution:\n  latency_ms: -5\n", "sim.yaml:2:15: 'execution.latency_ms': must be >= 0, got -5"),
            ("execution:\n  financing: {long_rate: 0.05, rollover_hour_utc: 99}\n",
             "'execution.financing.rollover_hour_utc'"),
            ("execution:\n  max_leverage: 0\n", "sim.yaml:2:17: 'execution.max_leverage': must be > 0"),
            ("execution:\n  max_volume_participation: 2\n", "'execution.max_volume_participation'"),
            ("backtest:\n  cash: -100\n", "sim.yaml:2:9: 'backtest.cash': must be > 0 and finite, got -100"),
            ("backtest:\n  cash: .nan\n", "'backtest.cash'"),
            ("backtest:\n  risk_free_rate: -2\n", "'backtest.risk_free_rate'"),
            ("backtest:\n  look_ahead_audit: -1\n", "'backtest.look_ahead_audit'"),
        ]
        for (yaml, expected) in cases {
            let e = error(yaml)
            #expect(e?.contains(expected) == true, "\(yaml) -> \(e ?? "accepted")")
        }
    }
}
