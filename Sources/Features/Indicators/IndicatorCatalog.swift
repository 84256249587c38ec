/// Every indicator `TechnicalIndicatorCalculator` computes, with default parameters (the "default full set" is
/// every output of every entry at its defaults).
///
///     IndicatorCatalog.definition(named: "rsi")?.talib   // "RSI"
///     IndicatorCatalog.defaultColumns.count              // all outputs at default parameters
public enum IndicatorCatalog {
    typealias P = IndicatorDefinition.Parameter
    typealias D = IndicatorDefinition

    public static let all: [IndicatorDefinition] = overlap + momentum + trend + volatility + volume + extended

    public static func definition(named name: String) -> IndicatorDefinition? { all.first { $0.name == name } }

    /// Every output column at default parameters, in catalog order.
    public static var defaultColumns: [String] { all.flatMap { $0.columnNames($0.defaults) } }

    static let overlap: [IndicatorDefinition] = [
        D("sma", "simple moving average of close", parameters: [.period(20)], talib: "SMA",
          lookback: { $0[0].period - 1 }, compute: { p, v in [Indicators.sma(p.close, period: v[0].period)] }),
        D("ema", "exponential moving average of close (SMA-seeded)", parameters: [.period(20)], talib: "EMA",
          lookback: { $0[0].period - 1 }, compute: { p, v in [Indicators.ema(p.close, period: v[0].period)] }),
        D("wma", "linearly weighted moving average of close", parameters: [.period(20)], talib: "WMA",
          lookback: { $0[0].period - 1 }, compute: { p, v in [Indicators.wma(p.close, period: v[0].period)] }),
        D("dema", "double exponential moving average of close", parameters: [.period(20)], talib: "DEMA",
          lookback: { 2 * ($0[0].period - 1) }, compute: { p, v in [Indicators.dema(p.close, period: v[0].period)] }),
        D("tema", "triple exponential moving average of close", parameters: [.period(20)], talib: "TEMA",
          lookback: { 3 * ($0[0].period - 1) }, compute: { p, v in [Indicators.tema(p.close, period: v[0].period)] }),
        D("kama", "Kaufman adaptive moving average of close", parameters: [.period(30)], talib: "KAMA",
          lookback: { $0[0].period }, compute: { p, v in [Indicators.kama(p.close, period: v[0].period)] }),
    ]

    static let momentum: [IndicatorDefinition] = [
        D("macd", "MACD line, signal and histogram", parameters: [.period("fast", 12), .period("slow", 26), .period("signal", 9, minimum: 1)],
          outputs: ["macd", "macd_signal", "macd_hist"], talib: "MACD",
          lookback: { max($0[0], $0[1]).period - 1 + $0[2].period - 1 },
          compute: { p, v in
              let m = Indicators.macd(p.close, fast: v[0].period, slow: v[1].period, signal: v[2].period)
              return [m.macd, m.signal, m.histogram]
          }),
        D("rsi", "relative strength index (Wilder)", parameters: [.period(14)], talib: "RSI",
          lookback: { $0[0].period }, compute: { p, v in [Indicators.rsi(p.close, period: v[0].period)] }),
        D("stoch", "slow stochastic %K/%D (SMA smoothing)",
          parameters: [.period("fastk", 14, minimum: 1), .period("slowk", 3, minimum: 1), .period("slowd", 3, minimum: 1)],
          outputs: ["stoch_k", "stoch_d"], talib: "STOCH",
          lookback: { $0[0].period - 1 + $0[1].period - 1 + $0[2].period - 1 },
          compute: { p, v in
              let s = Indicators.stoch(high: p.high, low: p.low, close: p.close, fastK: v[0].period, slowK: v[1].period,
                                       slowD: v[2].period)
              return [s.k, s.d]
          }),
        D("stochrsi", "stochastic RSI fast %K/%D (SMA smoothing)",
          parameters: [.period(14), .period("fastk", 5, minimum: 1), .period("fastd", 3, minimum: 1)],
          outputs: ["stochrsi_k", "stochrsi_d"], talib: "STOCHRSI",
          lookback: { $0[0].period + $0[1].period - 1 + $0[2].period - 1 },
          compute: { p, v in
              let s = Indicators.stochRSI(p.close, period: v[0].period, fastK: v[1].period, fastD: v[2].period)
              return [s.k, s.d]
          }),
        D("willr", "Williams %R", parameters: [.period(14)], talib: "WILLR",
          lookback: { $0[0].period - 1 },
          compute: { p, v in [Indicators.willr(high: p.high, low: p.low, close: p.close, period: v[0].period)] }),
        D("cci", "commodity channel index", parameters: [.period(14)], talib: "CCI",
          lookback: { $0[0].period - 1 },
          compute: { p, v in [Indicators.cci(high: p.high, low: p.low, close: p.close, period: v[0].period)] }),
        D("roc", "rate of change of close, percent", parameters: [.period(10, minimum: 1)], talib: "ROC",
          lookback: { $0[0].period }, compute: { p, v in [Indicators.roc(p.close, period: v[0].period)] }),
        D("mom", "momentum of close", parameters: [.period(10, minimum: 1)], talib: "MOM",
          lookback: { $0[0].period }, compute: { p, v in [Indicators.mom(p.close, period: v[0].period)] }),
        D("mfi", "money flow index", parameters: [.period(14)], talib: "MFI",
          lookback: { $0[0].period },
          compute: { p, v in [Indicators.mfi(high: p.high, low: p.low, close: p.close, volume: p.volume, period: v[0].period)] }),
        D("cmo", "Chande momentum oscillator", parameters: [.period(14)], talib: "CMO",
          lookback: { $0[0].period }, compute: { p, v in [Indicators.cmo(p.close, period: v[0].period)] }),
        D("trix", "1-bar rate of change of a triple EMA, percent", parameters: [.period(30, minimum: 1)], talib: "TRIX",
          lookback: { 3 * ($0[0].period - 1) + 1 }, compute: { p, v in [Indicators.trix(p.close, period: v[0].period)] }),
        D("ultosc", "ultimate oscillator",
          parameters: [.period("period1", 7, minimum: 1), .period("period2", 14, minimum: 1), .period("period3", 28, minimum: 1)],
          talib: "ULTOSC", lookback: { max($0[0], $0[1], $0[2]).period },
          compute: { p, v in
              [Indicators.ultosc(high: p.high, low: p.low, close: p.close, periods: (v[0].period, v[1].period, v[2].period))]
          }),
        D("ppo", "percentage price oscillator (SMA, TA-Lib's default)", parameters: [.period("fast", 12), .period("slow", 26)],
          talib: "PPO", lookback: { max($0[0], $0[1]).period - 1 },
          compute: { p, v in [Indicators.ppo(p.close, fast: v[0].period, slow: v[1].period)] }),
    ]

    static let trend: [IndicatorDefinition] = [
        D("adx", "average directional index with +DI/-DI (Wilder)", parameters: [.period(14)],
          outputs: ["adx", "plus_di", "minus_di"], talib: "ADX,PLUS_DI,MINUS_DI",
          lookback: { 2 * $0[0].period - 1 },
          outputLookbacks: { [2 * $0[0].period - 1, $0[0].period, $0[0].period] },
          compute: { p, v in
              let d = Indicators.directionalMovement(high: p.high, low: p.low, close: p.close, period: v[0].period)
              return [d.adx, d.plusDI, d.minusDI]
          }),
        D("aroon", "Aroon up/down and oscillator", parameters: [.period(14)],
          outputs: ["aroon_up", "aroon_down", "aroon_osc"], talib: "AROON,AROONOSC",
          lookback: { $0[0].period },
          compute: { p, v in
              let a = Indicators.aroon(high: p.high, low: p.low, period: v[0].period)
              return [a.up, a.down, a.oscillator]
          }),
        D("sar", "parabolic SAR", parameters: [.real("acceleration", 0.02), .real("maximum", 0.2)], talib: "SAR",
          lookback: { _ in 1 },
          compute: { p, v in [Indicators.sar(high: p.high, low: p.low, acceleration: v[0], maximum: v[1])] }),
    ]

    static let volatility: [IndicatorDefinition] = [
        D("atr", "average true range (Wilder)", parameters: [.period(14, minimum: 1)], talib: "ATR",
          lookback: { $0[0].period },
          compute: { p, v in [Indicators.atr(high: p.high, low: p.low, close: p.close, period: v[0].period)] }),
        D("natr", "ATR as a percentage of close", parameters: [.period(14, minimum: 1)], talib: "NATR",
          lookback: { $0[0].period },
          compute: { p, v in [Indicators.natr(high: p.high, low: p.low, close: p.close, period: v[0].period)] }),
        D("bbands", "Bollinger bands (SMA middle) with %B and bandwidth", parameters: [.period(20), .real("deviations", 2)],
          outputs: ["bbands_upper", "bbands_middle", "bbands_lower", "bbands_pctb", "bbands_width"], talib: "BBANDS",
          lookback: { $0[0].period - 1 },
          compute: { p, v in
              let b = Indicators.bollinger(p.close, period: v[0].period, deviations: v[1])
              return [b.upper, b.middle, b.lower, b.percentB, b.bandwidth]
          }),
        D("stddev", "population standard deviation of close", parameters: [.period(20), .real("deviations", 1)],
          talib: "STDDEV", lookback: { $0[0].period - 1 },
          compute: { p, v in [Indicators.stddev(p.close, period: v[0].period, deviations: v[1])] }),
    ]

    static let volume: [IndicatorDefinition] = [
        D("obv", "on-balance volume", parameters: [], talib: "OBV", lookback: { _ in 0 },
          compute: { p, _ in [Indicators.obv(close: p.close, volume: p.volume)] }),
        D("ad", "Chaikin accumulation/distribution line", parameters: [], talib: "AD", lookback: { _ in 0 },
          compute: { p, _ in [Indicators.ad(high: p.high, low: p.low, close: p.close, volume: p.volume)] }),
        D("adosc", "Chaikin A/D oscillator", parameters: [.period("fast", 3, minimum: 1), .period("slow", 10, minimum: 1)],
          talib: "ADOSC", lookback: { max($0[0], $0[1]).period - 1 },
          compute: { p, v in
              [Indicators.adosc(high: p.high, low: p.low, close: p.close, volume: p.volume, fast: v[0].period, slow: v[1].period)]
          }),
        D("cmf", "Chaikin money flow", parameters: [.period(20, minimum: 1)], lookback: { $0[0].period - 1 },
          compute: { p, v in [Indicators.cmf(high: p.high, low: p.low, close: p.close, volume: p.volume, period: v[0].period)] }),
        D("vwap", "volume-weighted average typical price, anchored at each UTC day", parameters: [], lookback: { _ in 0 },
          compute: { p, _ in [Indicators.vwap(timestamps: p.timestamps, high: p.high, low: p.low, close: p.close, volume: p.volume)] }),
    ]

    static let extended: [IndicatorDefinition] = [
        D("ichimoku", "Ichimoku lines as known at each bar (cloud as plotted, chikou as close - close[-kijun])",
          parameters: [.period("tenkan", 9, minimum: 1), .period("kijun", 26, minimum: 1), .period("senkou", 52, minimum: 1)],
          outputs: ["ichimoku_tenkan", "ichimoku_kijun", "ichimoku_senkou_a", "ichimoku_senkou_b", "ichimoku_chikou"],
          lookback: { $0[2].period - 1 + $0[1].period },
          outputLookbacks: { v in
              let (t, k, s) = (v[0].period, v[1].period, v[2].period)
              return [t - 1, k - 1, max(t, k) - 1 + k, s - 1 + k, k]
          },
          compute: { p, v in
              let i = Indicators.ichimoku(high: p.high, low: p.low, close: p.close, tenkan: v[0].period, kijun: v[1].period,
                                          senkou: v[2].period)
              return [i.tenkan, i.kijun, i.senkouA, i.senkouB, i.chikou]
          }),
        D("supertrend", "SuperTrend line and direction (+1/-1)", parameters: [.period(10, minimum: 1), .real("multiplier", 3)],
          outputs: ["supertrend", "supertrend_dir"], lookback: { $0[0].period },
          compute: { p, v in
              let s = Indicators.superTrend(high: p.high, low: p.low, close: p.close, period: v[0].period, multiplier: v[1])
              return [s.line, s.direction]
          }),
        D("keltner", "Keltner channels: EMA +- multiplier x ATR", parameters: [.period(20, minimum: 1), .real("multiplier", 2)],
          outputs: ["keltner_upper", "keltner_middle", "keltner_lower"], lookback: { $0[0].period },
          compute: { p, v in
              let k = Indicators.keltner(high: p.high, low: p.low, close: p.close, period: v[0].period, multiplier: v[1])
              return [k.upper, k.middle, k.lower]
          }),
        D("donchian", "Donchian channels (highest high, midpoint, lowest low)", parameters: [.period(20, minimum: 1)],
          outputs: ["donchian_upper", "donchian_middle", "donchian_lower"], lookback: { $0[0].period - 1 },
          compute: { p, v in
              let d = Indicators.donchian(high: p.high, low: p.low, period: v[0].period)
              return [d.upper, d.middle, d.lower]
          }),
        D("logret", "log return of close over n bars", parameters: [.period("bars", 1, minimum: 1)], lookback: { $0[0].period },
          compute: { p, v in [Indicators.logReturn(p.close, bars: v[0].period)] }),
        D("rvol", "realised volatility: sqrt of summed squared 1-bar log returns", parameters: [.period(20, minimum: 1)],
          lookback: { $0[0].period }, compute: { p, v in [Indicators.realisedVolatility(p.close, period: v[0].period)] }),
        D("candle", "candle body, upper and lower wick as fractions of the range", parameters: [],
          outputs: ["candle_body", "candle_upper_wick", "candle_lower_wick"], lookback: { _ in 0 },
          compute: { p, _ in
              let c = Indicators.candleShape(open: p.open, high: p.high, low: p.low, close: p.close)
              return [c.body, c.upperWick, c.lowerWick]
          }),
        D("time", "hour of day and day of week (UTC) as sin/cos", parameters: [],
          outputs: ["hour_sin", "hour_cos", "dow_sin", "dow_cos"], lookback: { _ in 0 },
          compute: { p, _ in
              let t = Indicators.cyclicalTime(p.timestamps)
              return [t.hourSin, t.hourCos, t.weekdaySin, t.weekdayCos]
          }),
    ]
}
