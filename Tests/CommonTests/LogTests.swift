import Testing
@testable import Common

@Suite struct LogTests {
    @Test func levelsAreOrderedBySeverity() {
        #expect(Log.Level.debug < .info)
        #expect(Log.Level.info < .warning)
        #expect(Log.Level.warning < .error)
    }

    @Test func levelCanBeRaisedAndRestored() {
        let saved = Log.level
        Log.level = .error
        #expect(Log.level == .error)
        Log.level = saved
        #expect(Log.level == saved)
    }
}
