import Foundation
import Dispatch
import Trading

/// A broker with every call timed and its failures counted in a `TradingMonitor` (broker latency by operation,
/// errors by kind); the first success after a connectivity failure counts as a reconnect.
///
///     let broker = InstrumentedVenue(alpaca, monitor: monitor)
///     let mode = ProductionMode(broker: broker, ...)
public final class InstrumentedVenue: Venue, @unchecked Sendable {
    public let inner: any Venue
    public let monitor: TradingMonitor
    public var name: String { inner.name }
    private let lock = NSLock()
    private var disconnected = false

    public init(_ inner: any Venue, monitor: TradingMonitor) {
        self.inner = inner
        self.monitor = monitor
    }

    private func timed<T: Sendable>(_ operation: String, _ body: @Sendable () async throws(VenueError) -> T) async throws(VenueError) -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        do {
            let value = try await body()
            monitor.recordBrokerCall(operation, seconds: seconds(), error: nil)
            if lock.withLock({ () -> Bool in defer { disconnected = false }; return disconnected }) { monitor.recordReconnect() }
            return value
        } catch {
            monitor.recordBrokerCall(operation, seconds: seconds(), error: error)
            if case .connectivity = error { lock.withLock { disconnected = true } }
            throw error
        }
    }

    public func submit(_ request: OrderRequest, clientOrderID: String) async throws(VenueError) -> OrderReport {
        try await timed("submit") { () async throws(VenueError) in try await self.inner.submit(request, clientOrderID: clientOrderID) }
    }

    public func cancel(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try await timed("cancel") { () async throws(VenueError) in try await self.inner.cancel(clientOrderID: clientOrderID) }
    }

    public func order(clientOrderID: String) async throws(VenueError) -> OrderReport {
        try await timed("order") { () async throws(VenueError) in try await self.inner.order(clientOrderID: clientOrderID) }
    }

    public func orders(openOnly: Bool) async throws(VenueError) -> [OrderReport] {
        try await timed("orders") { () async throws(VenueError) in try await self.inner.orders(openOnly: openOnly) }
    }

    public func fills(since: Int64) async throws(VenueError) -> [FillReport] {
        try await timed("fills") { () async throws(VenueError) in try await self.inner.fills(since: since) }
    }

    public func account() async throws(VenueError) -> AccountReport {
        try await timed("account") { () async throws(VenueError) in try await self.inner.account() }
    }
}
