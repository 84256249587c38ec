import Common
import Foundation
import Testing
@testable import Risk

/// Each breaker: trip → cool-down → reset only when its condition has cleared; persistence through JSON.
@Suite struct CircuitBreakersTests {
    let moderate = RiskProfiles.builtIn.profiles["moderate"]!     // daily 3 %, 4 losses, drawdown 15 %
    let t0: Int64 = 1_700_000_000_000
    let minute: Int64 = 60_000

    func obs(_ time: Int64, equity: Double = 10_000, sod: Double = 10_000, peak: Double = 10_000, losses: Int = 0,
             vol: Double = 1, age: Int64 = 0, fails: Int = 0, day: Int64? = 100) -> BreakerObservation {
        BreakerObservation(time: time, equity: equity, startOfDayEquity: sod, peakEquity: peak,
                           consecutiveLosses: losses, volatilityRatio: vol, dataAge: age, brokerFailures: fails,
                           sessionDay: day)
    }

    var breakers: CircuitBreakers { CircuitBreakers(config: .builtIn, profile: moderate) }

    @Test func dailyLossHoldsUntilTheNextSessionDay() {
        var b = breakers
        let r1 = b.evaluate(obs(t0, equity: 9_800))
        #expect(r1.isEmpty)              // 2.0 % < 3.0 %
        #expect(!b.isTripped(at: t0))
        let trip = b.evaluate(obs(t0 + minute, equity: 9_680))
        #expect(trip == [BreakerEvent(kind: .dailyLoss, tripped: true, time: t0 + minute,
                                      reason: "daily loss 3.2 % ≥ limit 3.0 % of start-of-day equity 10 000.00",
                                      until: nil)])
        #expect(b.isTripped(at: t0 + minute) && !b.isTripped(at: t0))
        let r2 = b.evaluate(obs(t0 + 60 * minute, equity: 9_990))
        #expect(r2.isEmpty)   // recovered, same session: still tripped
        #expect(b.tripped[.dailyLoss] != nil)
        let reset = b.evaluate(obs(t0 + 600 * minute, equity: 9_990, sod: 9_990, day: 101))
        #expect(reset.count == 1 && reset[0].kind == .dailyLoss && !reset[0].tripped)
        #expect(reset[0].reason.hasPrefix("cleared: daily loss 0.0 % < limit 3.0 %"))
        #expect(!b.isTripped(at: t0 + 600 * minute))
    }

    @Test func dailyLossWithACoolDownWaitsForBoth() {
        var config = BreakerConfig.builtIn
        config.cooldowns[.dailyLoss] = 120 * minute
        var b = CircuitBreakers(config: config, profile: moderate)
        let r3 = b.evaluate(obs(t0, equity: 9_500))
        #expect(r3.first?.until == t0 + 120 * minute)
        let r4 = b.evaluate(obs(t0 + 60 * minute, sod: 9_500, day: 101))
        #expect(r4.isEmpty)      // new day, cool-down not over
        let r5 = b.evaluate(obs(t0 + 120 * minute, sod: 9_500, day: 101))
        #expect(r5.first?.tripped == false)
    }

    @Test func consecutiveLossesResetAfterTheCoolDownAndCountAgain() {
        var b = breakers
        let r6 = b.evaluate(obs(t0, losses: 3))
        #expect(r6.isEmpty)
        let trip = b.evaluate(obs(t0 + minute, losses: 4))
        #expect(trip.first?.reason == "4 losing trades in a row ≥ limit 4")
        #expect(trip.first?.until == t0 + minute + 240 * minute)
        let r7 = b.evaluate(obs(t0 + 240 * minute, losses: 4))
        #expect(r7.isEmpty)           // a minute short
        let reset = b.evaluate(obs(t0 + 241 * minute, losses: 4))
        #expect(reset.first?.tripped == false && reset.first?.reason.contains("counts from 0") == true)
        let r8 = b.evaluate(obs(t0 + 242 * minute, losses: 7))
        #expect(r8.isEmpty)           // streak 3 since the reset
        let r9 = b.evaluate(obs(t0 + 243 * minute, losses: 8))
        #expect(r9.first?.reason == "4 losing trades in a row ≥ limit 4")
    }

    @Test func drawdownNeedsAManualResetThenMeasuresFromThere() {
        var b = breakers
        let r10 = b.evaluate(obs(t0, equity: 10_300, peak: 12_000))
        #expect(r10.isEmpty)      // 14.2 %
        let trip = b.evaluate(obs(t0 + minute, equity: 10_200, peak: 12_000))  // 15.0 %
        #expect(trip.first?.reason == "drawdown 15.0 % ≥ limit 15.0 % from peak equity 12 000.00")
        #expect(trip.first?.until == nil)
        // Recovered, a week later: manual reset only.
        let r11 = b.evaluate(obs(t0 + 10_080 * minute, equity: 11_500, peak: 12_000))
        #expect(r11.isEmpty)
        #expect(b.isTripped(at: t0 + 10_080 * minute))
        let r12 = b.reset(.drawdown, at: t0 + 10_081 * minute)
        #expect(r12?.tripped == false)
        let r13 = b.reset(.drawdown, at: t0 + 10_081 * minute)
        #expect(r13 == nil)
        // Measured from 11 500 now: 10 000 is 13.0 % — no trip; 9 700 is 15.7 % — trips.
        let r14 = b.evaluate(obs(t0 + 10_082 * minute, equity: 10_000, peak: 12_000))
        #expect(r14.isEmpty)
        let again = b.evaluate(obs(t0 + 10_083 * minute, equity: 9_700, peak: 12_000))
        let drawdown = again.first { $0.kind == .drawdown }      // (the daily loss of 3.0 % trips too)
        #expect(drawdown?.reason == "drawdown 15.7 % ≥ limit 15.0 % from peak equity 11 500.00 (since the manual reset)")
    }

    @Test func drawdownWithACoolDownResetsOnlyOnceRecovered() {
        var config = BreakerConfig.builtIn
        config.cooldowns[.drawdown] = 1_440 * minute
        var b = CircuitBreakers(config: config, profile: moderate)
        _ = b.evaluate(obs(t0, equity: 8_000, peak: 10_000))
        let r15 = b.evaluate(obs(t0 + 2_000 * minute, equity: 8_400, peak: 10_000))
        #expect(r15.isEmpty)   // 16 %
        let r16 = b.evaluate(obs(t0 + 2_001 * minute, equity: 9_000, peak: 10_000))
        #expect(r16.first?.tripped == false)
    }

    @Test func volatilitySpike() {
        var b = breakers
        let r17 = b.evaluate(obs(t0, vol: .nan))
        #expect(r17.isEmpty)                          // unknown: no decision
        let trip = b.evaluate(obs(t0, vol: 3.5))
        #expect(trip.first?.reason == "volatility 3.50× its recent median ≥ threshold 3×")
        #expect(trip.first?.until == t0 + 60 * minute)
        let r18 = b.evaluate(obs(t0 + 30 * minute, vol: 1))
        #expect(r18.isEmpty)               // cooling down
        let r19 = b.evaluate(obs(t0 + 61 * minute, vol: 3.2))
        #expect(r19.isEmpty)             // still spiking
        let r20 = b.evaluate(obs(t0 + 62 * minute, vol: .nan))
        #expect(r20.isEmpty)            // unknown does not clear
        let r21 = b.evaluate(obs(t0 + 63 * minute, vol: 1.2))
        #expect(r21.first?.tripped == false)
    }

    @Test func staleDataInBarsOfTheTimeframe() {
        var b = CircuitBreakers(config: BreakerConfig.builtIn.forBarInterval(minute), profile: moderate)   // 3 min
        let r22 = b.evaluate(obs(t0, age: 3 * minute))
        #expect(r22.isEmpty)
        let trip = b.evaluate(obs(t0, age: 3 * minute + 1_000))
        #expect(trip.first?.reason == "newest data 181.0 s old > limit 3 min (3 bars)")
        let r23 = b.evaluate(obs(t0 + 4 * minute, age: 1_000))
        #expect(r23.isEmpty)            // fresh, cool-down 5 min
        let r24 = b.evaluate(obs(t0 + 5 * minute, age: 1_000))
        #expect(r24.first?.kind == .staleData)
        let hourly = BreakerConfig.builtIn.forBarInterval(3_600_000)
        #expect(hourly.staleDataMaxAge == 3 * 3_600_000)
    }

    @Test func brokerConnectivity() {
        var b = breakers
        let r25 = b.evaluate(obs(t0, fails: 2))
        #expect(r25.isEmpty)
        let r26 = b.evaluate(obs(t0, fails: 3))
        #expect(r26.first?.reason == "3 venue calls failed in a row ≥ limit 3")
        let r27 = b.evaluate(obs(t0 + 6 * minute, fails: 5))
        #expect(r27.isEmpty)
        let reset = b.evaluate(obs(t0 + 7 * minute, fails: 0))
        #expect(reset == [BreakerEvent(kind: .brokerConnectivity, tripped: false, time: t0 + 7 * minute,
                                       reason: "cleared: 0 venue calls failed in a row < limit 3", until: nil)])
    }

    @Test func manualResetOfAHoldingConditionTripsAgain() {
        var b = breakers
        _ = b.evaluate(obs(t0, fails: 4))
        let r28 = b.reset(.brokerConnectivity, at: t0 + 1)
        #expect(r28?.reason == "reset by hand")
        let r29 = b.evaluate(obs(t0 + 2, fails: 4))
        #expect(r29.first?.tripped == true)
    }

    @Test func jsonRoundTripRestoresTheExactState() throws {
        var b = breakers
        _ = b.evaluate(obs(t0, equity: 9_500, losses: 4, vol: 4, fails: 3))
        _ = b.evaluate(obs(t0 + 241 * minute, equity: 9_500, losses: 4, vol: 4, fails: 3))   // streak reset
        _ = b.evaluate(obs(t0 + 242 * minute, equity: 9_500, peak: 11_500, losses: 5, vol: 4, fails: 3))
        #expect(Set(b.tripped.keys) == [.dailyLoss, .drawdown, .volatilitySpike, .brokerConnectivity])
        let json = try JSONEncoder().encode(b)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"daily_loss\"") && text.contains("\"broker_connectivity\""))
        var restored = try JSONDecoder().decode(CircuitBreakers.self, from: json)
        #expect(restored == b)
        // The same future: the streak baseline survived (5 losses = streak 1), the trips reset alike.
        let next = obs(t0 + 2_000 * minute, equity: 9_500, sod: 9_500, peak: 11_500, losses: 7, vol: 1, day: 102)
        let a = b.evaluate(next)
        let r30 = restored.evaluate(next)
        #expect(r30 == a)
        #expect(a.map(\.kind) == [.dailyLoss, .volatilitySpike, .brokerConnectivity] && a.allSatisfy { !$0.tripped })
        #expect(restored == b)
    }
}
