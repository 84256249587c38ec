import Foundation
@testable import Robot
import Testing
import Trading

/// Records alerts (what the monitor's webhook and the log would receive).
final class AlertRecorder: AlertSink, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [RobotAlert] = []
    func send(_ alert: RobotAlert) { lock.withLock { sent.append(alert) } }
    var alerts: [RobotAlert] { lock.withLock { sent } }
}

@Suite struct KillSwitchTests {
    static let token = "s3cr3t-kill-switch-token-7f2a91"

    func authorization() throws -> KillSwitchAuthorization {
        try KillSwitchAuthorization.fromEnvironment("KS_TOKEN", environment: ["KS_TOKEN": Self.token])
    }

    func open(_ path: String, _ limits: KillSwitch.Limits = .init(), alerts: AlertRecorder = AlertRecorder()) throws -> KillSwitch {
        try KillSwitch(path: path, limits: limits, authorization: try authorization(), alerts: alerts)
    }

    @Test func aManualTripPersistsAcrossARestartAndOnlyTheTokenResetsIt() throws {
        let path = temporaryPath("kill-switch.json")
        let alerts = AlertRecorder()
        let ks = try open(path, alerts: alerts)
        #expect(!ks.isActive)
        #expect(try ks.trigger("desk halt", at: 1_000))
        #expect(try !ks.trigger("second reason", at: 2_000), "a trip while active keeps the first reason")
        let reopened = try open(path)
        #expect(reopened.isActive)
        #expect(reopened.state.reason == "desk halt" && reopened.state.trigger == .manual && reopened.state.since == 1_000)

        #expect(throws: KillSwitchError.unauthorized) { try reopened.reset(authorization: "wrong-token-000000000", at: 3_000) }
        #expect(throws: KillSwitchError.unauthorized) { try reopened.reset(authorization: Self.token + "x", at: 3_000) }
        #expect(try open(path).isActive, "a refused reset changes nothing on disk")
        try reopened.reset(authorization: Self.token, at: 4_000)
        #expect(!reopened.isActive)
        let again = try open(path)
        #expect(!again.isActive)
        #expect(again.state.history.map(\.action) == ["trip", "reset"])
        #expect(alerts.alerts.first?.level == .critical)
    }

    @Test func eachAutomaticTriggerTrips() throws {
        let limits = KillSwitch.Limits(maxDailyTrades: 2, maxPositionValue: 50_000, maxConnectivityFailures: 3,
                                       maxConsecutiveRejections: 4)
        // Daily trade count: the third trade of a day trips; a new day restarts the count.
        let trades = try open(temporaryPath("ks.json"), limits)
        #expect(try !trades.recordTrade(day: 10, at: 1))
        #expect(try !trades.recordTrade(day: 10, at: 2))
        #expect(try !trades.recordTrade(day: 11, at: 3))
        #expect(trades.trades(day: 11) == 1 && trades.trades(day: 10) == 0)
        #expect(try !trades.recordTrade(day: 11, at: 4))
        #expect(try trades.recordTrade(day: 11, at: 5))
        #expect(trades.state.trigger == .dailyTradeCount)
        #expect(trades.state.reason == "3 trades this session day, the limit is 2")

        let value = try open(temporaryPath("ks.json"), limits)
        #expect(try value.observe(.init(grossPositionValue: 50_000), at: 1) == nil)
        #expect(try value.observe(.init(grossPositionValue: 50_000.01), at: 2) == .positionValue)

        let nan = try open(temporaryPath("ks.json"), limits)
        #expect(try nan.observe(.init(grossPositionValue: .nan), at: 1) == .positionValue)

        let link = try open(temporaryPath("ks.json"), limits)
        #expect(try link.observe(.init(consecutiveConnectivityFailures: 2), at: 1) == nil)
        #expect(try link.observe(.init(consecutiveConnectivityFailures: 3), at: 2) == .connectivityLoss)

        let rejections = try open(temporaryPath("ks.json"), limits)
        #expect(try rejections.observe(.init(consecutiveRejections: 3), at: 1) == nil)
        #expect(try rejections.observe(.init(consecutiveRejections: 4), at: 2) == .repeatedRejections)
        #expect(try open(rejections.path, limits).state.trigger == .repeatedRejections)
    }

    @Test func badLimitsAndUnreadableStateAreErrorsNamingThem() throws {
        #expect(throws: KillSwitchError.configuration("maxDailyTrades must be at least 1 (got 0)")) {
            try open(temporaryPath("ks.json"), .init(maxDailyTrades: 0))
        }
        let path = temporaryPath("ks.json")
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try open(path)
            Issue.record("a corrupt state file was accepted")
        } catch {
            #expect("\(error)".contains(path))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{not json", "the file is left as it was")
    }

    @Test func theTokenNeverAppearsInLogsErrorsOrTheStateFile() throws {
        // From a file: one others can read is refused; the owner-only one is accepted.
        let tokenFile = temporaryPath("token")
        try Data((Self.token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
        chmod(tokenFile, 0o644)
        var texts: [String] = []
        do { _ = try KillSwitchAuthorization.fromFile(tokenFile); Issue.record("a world-readable token file was accepted") } catch {
            texts.append("\(error)")
            #expect("\(error)".contains("readable by others"))
        }
        chmod(tokenFile, 0o600)
        let auth = try KillSwitchAuthorization.fromFile(tokenFile)
        texts += ["\(auth)", String(reflecting: auth)]
        do { _ = try KillSwitchAuthorization.fromEnvironment("T", environment: ["T": "short"]) } catch { texts.append("\(error)") }

        let path = temporaryPath("ks.json")
        let alerts = AlertRecorder()
        let ks = try KillSwitch(path: path, limits: .init(maxDailyTrades: 1), authorization: auth, alerts: alerts)
        try ks.recordTrade(day: 1, at: 1)
        try ks.recordTrade(day: 1, at: 2)
        for guess in ["", "x", String(Self.token.dropLast()), Self.token.uppercased()] {
            do { try ks.reset(authorization: guess, at: 3) } catch { texts.append("\(error)") }
        }
        try ks.reset(authorization: Self.token, at: 4)
        texts += alerts.alerts.flatMap { [$0.title, $0.message, $0.key] }
        texts.append(try String(contentsOfFile: path, encoding: .utf8))
        #expect(texts.count > 8)
        for text in texts { #expect(!text.contains(Self.token) && !text.contains(String(Self.token.prefix(12))), "\(text)") }
    }
}

@Suite struct KillSwitchSharingTests {
    /// A trip or reset by another process (another `KillSwitch` on the same file) is seen by a running one; a file
    /// replaced by garbage makes it active (fail closed) without being overwritten.
    @Test func anotherProcessesTripIsSeenAndGarbageFailsClosed() throws {
        let path = temporaryPath("kill-switch.json")
        let auth = try KillSwitchAuthorization.fromEnvironment("T", environment: ["T": KillSwitchTests.token])
        let robot = try KillSwitch(path: path, limits: .init(maxDailyTrades: 100), authorization: auth, alerts: AlertRecorder())
        try robot.recordTrade(day: 1, at: 1)
        let operator_ = try KillSwitch(path: path, authorization: auth, alerts: AlertRecorder())
        #expect(operator_.trades(day: 1) == 1)
        try operator_.trigger("halt from the desk", at: 2)
        #expect(robot.isActive && robot.state.reason == "halt from the desk")
        try robot.recordTrade(day: 1, at: 3)
        #expect(try KillSwitch(path: path, authorization: auth, alerts: AlertRecorder()).isActive, "a later write keeps the trip")
        try operator_.reset(authorization: KillSwitchTests.token, at: 4)
        #expect(!robot.isActive)

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        #expect(robot.isActive)
        #expect(robot.state.reason?.contains("unreadable") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "garbage")
    }
}
