import Foundation
import MarketData
import Testing
@testable import Features

@Suite struct IndicatorCatalogTests {
    static let bars = TestData.randomWalk(count: 400, seed: 11)
    static let frame = TechnicalIndicatorCalculator().compute(bars, requests: IndicatorRequest.defaultSet)

    @Test func columnNamesFollowTheContract() throws {
        #expect(try IndicatorRequest(parsing: "rsi_14").columnNames == ["rsi_14"])
        #expect(try IndicatorRequest(parsing: "rsi").columnNames == ["rsi_14"])
        #expect(try IndicatorRequest(parsing: "macd_12_26_9").columnNames == ["macd_12_26_9"])
        #expect(try IndicatorRequest(parsing: "macd_signal_12_26_9").columnNames == ["macd_signal_12_26_9"])
        #expect(try IndicatorRequest(parsing: "MACD_HIST_5_35_5").columnNames == ["macd_hist_5_35_5"])
        #expect(try IndicatorRequest(parsing: "bbands_upper_20_2").columnNames == ["bbands_upper_20_2"])
        #expect(try IndicatorRequest(parsing: "bbands_20_2.5").columnNames.count == 5)
        #expect(try IndicatorRequest(parsing: "stoch_k_14_3_3").columnNames == ["stoch_k_14_3_3"])
        #expect(try IndicatorRequest(parsing: "stoch").columnNames == ["stoch_k_14_3_3", "stoch_d_14_3_3"])
        #expect(try IndicatorRequest(parsing: "sar_0.02_0.2").columnNames == ["sar_0.02_0.2"])
        #expect(try IndicatorRequest(parsing: "atr_14").columnNames == ["atr_14"])
        #expect(try IndicatorRequest(parsing: "adx_14").columnNames == ["adx_14"])
        #expect(try IndicatorRequest(parsing: "plus_di_14").lookbacks == [14])
        #expect(try IndicatorRequest(parsing: "candle_upper_wick").columnNames == ["candle_upper_wick"])
        #expect(try IndicatorRequest(parsing: "hour_sin").columnNames == ["hour_sin"])
        #expect(try IndicatorRequest(parsing: "obv").columnNames == ["obv"])
        // Every default column parses back to itself.
        for name in IndicatorCatalog.defaultColumns {
            #expect(try IndicatorRequest(parsing: name).columnNames == [name])
        }
    }

    /// A bare indicator name emits every output, whether or not its first output shares the name (`macd` as
    /// `bbands` and `stoch`); with parameters the name is one column of the contract.
    @Test func bareMultiOutputNamesEmitEveryColumn() throws {
        #expect(try IndicatorRequest(parsing: "macd").columnNames
            == ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"])
        #expect(try IndicatorRequest(parsing: "adx").columnNames == ["adx_14", "plus_di_14", "minus_di_14"])
        #expect(try IndicatorRequest(parsing: "supertrend").columnNames.count == 2)
        #expect(try IndicatorRequest(parsing: "bbands").columnNames.count == 5)
        for d in IndicatorCatalog.all {
            #expect(try IndicatorRequest(parsing: d.name).columnNames.count == d.outputs.count, "\(d.name)")
        }
        let frame = try TechnicalIndicatorCalculator().compute(Self.bars, columns: ["macd", "stoch", "bbands"])
        #expect(frame.names == ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9", "stoch_k_14_3_3",
                                "stoch_d_14_3_3", "bbands_upper_20_2", "bbands_middle_20_2", "bbands_lower_20_2",
                                "bbands_pctb_20_2", "bbands_width_20_2"])
        #expect(try IndicatorRequest(parsing: "macd_12_26_9").columnNames == ["macd_12_26_9"])
    }

    @Test func badNamesAreReportedWithTheirOrigin() {
        #expect(throws: FeatureError(location: "cfg.yaml:3:5", reason: "unknown indicator 'rsx_14' (see `aitrader indicators list`)")) {
            try IndicatorRequest(parsing: "rsx_14", location: "cfg.yaml:3:5")
        }
        #expect(throws: FeatureError.self) { try IndicatorRequest(parsing: "rsi_1") }          // period >= 2
        #expect(throws: FeatureError.self) { try IndicatorRequest(parsing: "rsi_14.5") }       // integer period
        #expect(throws: FeatureError.self) { try IndicatorRequest(parsing: "rsi_14_3") }       // too many
        #expect(throws: FeatureError.self) { try IndicatorRequest(parsing: "rsi_14_up") }      // malformed
    }

    /// Every column's reported lookback is exactly its run of leading NaNs, and nothing after it is NaN.
    @Test func lookbacksAreExactWarmups() {
        let frame = Self.frame
        #expect(frame.width == IndicatorCatalog.defaultColumns.count)
        for (k, name) in frame.names.enumerated() {
            let column = frame.columns[k]
            let leading = column.prefix { $0.isNaN }.count
            #expect(leading == frame.lookbacks[k], "\(name): \(leading) NaN rows, lookback \(frame.lookbacks[k])")
            #expect(!column[leading...].contains { !$0.isFinite }, "\(name): non-finite value after warm-up")
        }
        #expect(frame.droppingWarmup().columns.allSatisfy { !$0.contains { $0.isNaN } })
    }

    /// No indicator looks ahead: values on a prefix of the bars equal the full run's values on those rows.
    @Test func indicatorsAreCausal() {
        let full = Self.frame
        for cut in [60, 137, 250] {
            let prefix = TechnicalIndicatorCalculator().compute(Self.bars[0..<cut], requests: IndicatorRequest.defaultSet)
            for (k, name) in full.names.enumerated() {
                let a = prefix.columns[k], b = Array(full.columns[k][0..<cut])
                let same = zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) || abs($0 - $1) <= 1e-12 * abs($1) }
                #expect(same, "\(name) changes when later bars are added (cut \(cut))")
            }
        }
    }

    @Test func beyondTALibIndicatorsMatchTheirDefinitions() throws {
        let bars = Self.bars, frame = Self.frame
        let h = bars.high.array, l = bars.low.array, c = bars.close.array, o = bars.open.array, v = bars.volume.array
        let t = 150
        // Donchian / Ichimoku midpoints by brute force.
        let hh20 = h[(t - 19)...t].max()!, ll20 = l[(t - 19)...t].min()!
        #expect(frame["donchian_upper_20"]![t] == hh20 && frame["donchian_lower_20"]![t] == ll20)
        let tenkan = (h[(t - 8)...t].max()! + l[(t - 8)...t].min()!) / 2
        #expect(abs(frame["ichimoku_tenkan_9_26_52"]![t] - tenkan) < 1e-12)
        let s = t - 26
        let senkouB = (h[(s - 51)...s].max()! + l[(s - 51)...s].min()!) / 2
        #expect(abs(frame["ichimoku_senkou_b_9_26_52"]![t] - senkouB) < 1e-12)
        #expect(abs(frame["ichimoku_chikou_9_26_52"]![t] - (c[t] - c[t - 26])) < 1e-12)
        // Chaikin money flow.
        var flow = 0.0, vol = 0.0
        for i in (t - 19)...t {
            flow += ((c[i] - l[i]) - (h[i] - c[i])) / (h[i] - l[i]) * v[i]
            vol += v[i]
        }
        #expect(abs(frame["cmf_20"]![t] - flow / vol) < 1e-12)
        // Log return, realised volatility.
        #expect(abs(frame["logret_1"]![t] - log(c[t] / c[t - 1])) < 1e-15)
        let rv = ((t - 19)...t).map { pow(log(c[$0] / c[$0 - 1]), 2) }.reduce(0, +).squareRoot()
        #expect(abs(frame["rvol_20"]![t] - rv) < 1e-15)
        // Candle: body + wicks cover the range.
        let body = abs(frame["candle_body"]![t]), up = frame["candle_upper_wick"]![t], down = frame["candle_lower_wick"]![t]
        #expect(abs(body + up + down - 1) < 1e-12 && up >= 0 && down >= 0)
        #expect(frame["candle_body"]![t].sign == (c[t] - o[t]).sign)
        // Bollinger %B and width from the bands.
        let upper = frame["bbands_upper_20_2"]![t], lower = frame["bbands_lower_20_2"]![t], mid = frame["bbands_middle_20_2"]![t]
        #expect(abs(frame["bbands_pctb_20_2"]![t] - (c[t] - lower) / (upper - lower)) < 1e-12)
        #expect(abs(frame["bbands_width_20_2"]![t] - (upper - lower) / mid) < 1e-12)
        // Keltner and SuperTrend values: against TA-Lib-built references in TALibParityTests. Here, on this walk
        // (seed 11): the SuperTrend line is below the close in an up-trend, above it in a down-trend.
        for i in 11..<bars.count {
            let dir = frame["supertrend_dir_10_3"]![i], line = frame["supertrend_10_3"]![i]
            #expect(dir == 1 ? line <= c[i] : line >= c[i], "supertrend side at \(i) (walk seed 11)")
        }
    }

    @Test func vwapResetsEachSessionAndTimeFeaturesAreCyclical() {
        let bars = Self.bars, frame = Self.frame
        let vwap = frame["vwap"]!
        for i in 0..<bars.count {
            let t = bars.timestamps[i]
            let dayStart = (t / 86_400_000) * 86_400_000
            var pv = 0.0, vol = 0.0
            var j = i
            while j >= 0 && bars.timestamps[j] >= dayStart {
                pv += (bars.high[j] + bars.low[j] + bars.close[j]) / 3 * bars.volume[j]
                vol += bars.volume[j]
                j -= 1
            }
            #expect(abs(vwap[i] - pv / vol) <= 1e-12 * vwap[i])
        }
        let hs = frame["hour_sin"]!, hc = frame["hour_cos"]!, ds = frame["dow_sin"]!, dc = frame["dow_cos"]!
        for i in 0..<bars.count {
            #expect(abs(hs[i] * hs[i] + hc[i] * hc[i] - 1) < 1e-12 && abs(ds[i] * ds[i] + dc[i] * dc[i] - 1) < 1e-12)
        }
        // 2020-09-13 12:26:40 UTC is a Sunday (ISO 7 -> index 6); the first bar's hour is 12.444...
        #expect(abs(hs[0] - sin(2 * .pi * (12 + 26.0 / 60 + 40.0 / 3600) / 24)) < 1e-12)
        #expect(abs(ds[0] - sin(2 * .pi * 6 / 7)) < 1e-12)
    }

    @Test func threadCountDoesNotChangeResults() {
        let parallel = TechnicalIndicatorCalculator(threads: 3).compute(Self.bars, requests: IndicatorRequest.defaultSet)
        #expect(parallel.names == Self.frame.names && parallel.lookbacks == Self.frame.lookbacks)
        for k in 0..<parallel.width {
            #expect(zip(parallel.columns[k], Self.frame.columns[k]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    @Test func shortSeriesGiveAllNaNNotACrash() {
        let tiny = TestData.randomWalk(count: 5, seed: 3)
        let frame = TechnicalIndicatorCalculator().compute(tiny, requests: IndicatorRequest.defaultSet)
        #expect(frame.count == 5)
        #expect(frame["sma_20"]!.allSatisfy { $0.isNaN })
        #expect(frame["adx_14"]!.allSatisfy { $0.isNaN })
        let empty = TechnicalIndicatorCalculator().compute(TestData.randomWalk(count: 0, seed: 3), requests: IndicatorRequest.defaultSet)
        #expect(empty.count == 0)
    }
}
