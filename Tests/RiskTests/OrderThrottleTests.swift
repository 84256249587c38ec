import Foundation
import Testing
@testable import Risk

@Suite struct OrderThrottleTests {
    @Test func rollingSixtySecondWindow() {
        var t = OrderThrottle(maxOrdersPerMinute: 3)
        let r1 = t.admit(at: 0)
        #expect(r1)
        let r2 = t.admit(at: 20_000)
        #expect(r2)
        let r3 = t.admit(at: 40_000)
        #expect(r3)
        let r4 = t.admit(at: 59_999)
        #expect(!r4)                  // 3 in (−0.001 s, 59.999 s]
        #expect(t.nextAdmission(at: 59_999) == 60_000)
        let r5 = t.admit(at: 60_000)
        #expect(r5)                   // the order at 0 left the window
        let r6 = t.admit(at: 60_001)
        #expect(!r6)
        #expect(t.count(at: 60_001) == 3)
        let r7 = t.admit(at: 80_000)
        #expect(r7)                   // 20 s order left
        #expect(t.nextAdmission(at: 200_000) == 200_000)
    }

    @Test func refusedOrdersAreNotCounted() {
        var t = OrderThrottle(maxOrdersPerMinute: 1)
        let r8 = t.admit(at: 0)
        #expect(r8)
        for s in 1..<60 {
            let admitted = t.admit(at: Int64(s) * 1_000)
            #expect(!admitted)
        }
        let r9 = t.admit(at: 60_000)
        #expect(r9)     // the refusals did not extend the window
    }

    @Test func jsonRoundTrip() throws {
        var t = OrderThrottle(maxOrdersPerMinute: 2)
        _ = t.admit(at: 5)
        t.record(at: 7)
        let back = try JSONDecoder().decode(OrderThrottle.self, from: JSONEncoder().encode(t))
        #expect(back == t)
        var b = back
        let r10 = b.admit(at: 10)
        #expect(!r10)
    }
}
