import Common
import Foundation
import Testing
@testable import Risk

/// configs/risk_profiles.yaml: the shipped file equals the built-in set; every bad value is a `ConfigError` with
/// file:line:column and the key.
@Suite struct RiskProfilesTests {
    static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    let valid = """
        risk_profiles:
          p:
            position_fraction: 0.5
            max_leverage: 1
            stop_atr_multiple: 2.0
            risk_per_trade: 0.01
            max_positions: 5
            max_exposure: 2
            daily_loss_limit: 0.03
            max_drawdown: 0.15
            min_confidence: 0.6
            kelly_fraction: 0.25
            take_profit_atr_multiple: 2.5
            max_consecutive_losses: 4
            max_orders_per_minute: 20

        """

    func error(_ yaml: String) -> String? {
        do {
            _ = try RiskProfiles.parse(try YAMLNode.parse(yaml, file: "risk.yaml"))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func shippedFileIsTheBuiltInSet() throws {
        let file = try RiskProfiles.load(path: Self.repositoryRoot + "/configs/risk_profiles.yaml")
        #expect(Set(file.profiles.keys) == ["conservative", "moderate", "aggressive"])
        for (name, profile) in RiskProfiles.builtIn.profiles {
            #expect(file.profiles[name] == profile, "\(name)")
            #expect(throws: Never.self) { try profile.validate() }
        }
        #expect(file.breakers == BreakerConfig.builtIn)
        #expect(file.profiles["aggressive"]?.maxLeverage == 2)
    }

    @Test func validFileWithoutBreakersUsesTheBuiltInOnes() throws {
        let p = try RiskProfiles.parse(try YAMLNode.parse(valid, file: "risk.yaml"))
        #expect(p.profiles["p"]?.riskPerTrade == 0.01 && p.breakers == .builtIn)
    }

    @Test func badValuesNameFileLineAndKey() {
        let cases: [(String, String, String)] = [
            ("risk_per_trade: 0.01", "risk_per_trade: 0.5", "risk.yaml:6:21: 'risk_profiles.p.risk_per_trade': must be in (0, 0.25]"),
            ("max_positions: 5", "max_positions: 0", "risk.yaml:7:20: 'risk_profiles.p.max_positions'"),
            ("max_exposure: 2", "max_exposure: -1", "risk.yaml:8:19: 'risk_profiles.p.max_exposure'"),
            ("daily_loss_limit: 0.03", "daily_loss_limit: 3", "risk.yaml:9:23: 'risk_profiles.p.daily_loss_limit': must be in (0, 1)"),
            ("max_drawdown: 0.15", "max_drawdown: 1.5", "'risk_profiles.p.max_drawdown'"),
            ("min_confidence: 0.6", "min_confidence: 0.4", "'risk_profiles.p.min_confidence'"),
            ("kelly_fraction: 0.25", "kelly_fraction: 0", "'risk_profiles.p.kelly_fraction'"),
            ("take_profit_atr_multiple: 2.5", "take_profit_atr_multiple: -2", "'risk_profiles.p.take_profit_atr_multiple'"),
            ("stop_atr_multiple: 2.0", "stop_atr_multiple: -1", "'risk_profiles.p.stop_atr_multiple'"),
            ("max_consecutive_losses: 4", "max_consecutive_losses: 2.5", "'risk_profiles.p.max_consecutive_losses': expected an integer"),
            ("max_orders_per_minute: 20", "max_orders_per_minute: 0", "'risk_profiles.p.max_orders_per_minute'"),
            ("position_fraction: 0.5", "position_fraction: 2", "'risk_profiles.p.position_fraction'"),
            ("max_leverage: 1", "max_leverage: .nan", "'risk_profiles.p.max_leverage'"),
            ("max_positions: 5", "max_postions: 5", "risk.yaml:7:"),
            ("    daily_loss_limit: 0.03\n", "", "missing required key 'daily_loss_limit'"),
        ]
        for (from, to, expected) in cases {
            let e = error(valid.replacingOccurrences(of: from, with: to))
            #expect(e?.contains(expected) == true, "\(to) -> \(e ?? "accepted")")
        }
        #expect(error("risk_profiles: {}\n")?.contains("no risk profiles") == true)
    }

    @Test func breakersSection() throws {
        let yaml = valid + """
            breakers:
              daily_loss: {cooldown_minutes: 30}
              consecutive_losses: {cooldown_minutes: manual}
              drawdown: {cooldown_minutes: 1440}
              volatility_spike: {cooldown_minutes: 60, threshold_ratio: 2.5}
              stale_data: {cooldown_minutes: 5, max_age_bars: 4}
              broker_connectivity: {cooldown_minutes: 2, max_failures: 5}

            """
        let b = try RiskProfiles.parse(try YAMLNode.parse(yaml, file: "risk.yaml")).breakers
        #expect(b.cooldown(.dailyLoss) == 30 * 60_000 && b.cooldown(.consecutiveLosses) == nil)
        #expect(b.cooldown(.drawdown) == Int64(1_440 * 60_000))
        #expect(b.volatilityRatioThreshold == 2.5 && b.staleDataMaxAgeBars == 4 && b.brokerMaxFailures == 5)
        let cases: [(String, String, String)] = [
            ("threshold_ratio: 2.5", "threshold_ratio: 0.9", "risk.yaml:20:61: 'breakers.volatility_spike.threshold_ratio'"),
            ("cooldown_minutes: 30", "cooldown_minutes: soon", "'breakers.daily_loss.cooldown_minutes': expected a number"),
            ("cooldown_minutes: 30", "cooldown_minutes: -1", "'breakers.daily_loss.cooldown_minutes': must be minutes"),
            ("max_age_bars: 4", "max_age_bars: 0", "'breakers.stale_data.max_age_bars'"),
            ("max_failures: 5", "max_failures: 0", "'breakers.broker_connectivity.max_failures'"),
            ("max_failures: 5", "max_fails: 5", "unknown key"),
            ("  drawdown: {cooldown_minutes: 1440}\n", "", "missing required key 'drawdown'"),
            ("  stale_data:", "  stale_date:", "unknown key"),
        ]
        for (from, to, expected) in cases {
            let e = error(yaml.replacingOccurrences(of: from, with: to))
            #expect(e?.contains(expected) == true, "\(to) -> \(e ?? "accepted")")
        }
    }

    @Test func missingFileIsAConfigError() {
        #expect(throws: ConfigError.self) { try RiskProfiles.load(path: "no/such/risk_profiles.yaml") }
    }

    @Test func validateNamesTheKey() {
        var p = RiskProfiles.builtIn.profiles["moderate"]!
        p.maxDrawdown = 0
        #expect(throws: RiskProfileError(profile: "moderate", key: "max_drawdown",
                                         requirement: "must be in (0, 1) (a fraction of peak equity: 0.15 = 15 %)")) {
            try p.validate()
        }
    }
}
