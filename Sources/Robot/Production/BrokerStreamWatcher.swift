import Foundation
import Trading

/// Watches a broker's push stream (`BrokerAdapter.updates`) beside the robot: counts the order updates and fills
/// it pushes, alerts when a stream is lost and when it is back (a reconnect is counted by the monitor). Alpaca does
/// not replay what was pushed during a gap; nothing needs asking for here, since the robot's order manager re-queries
/// orders and fills at every cycle. The journal is not written from here: the robot's cycle is its only writer.
///
///     let watcher = BrokerStreamWatcher(broker: alpaca, alerts: monitor, onReconnect: { monitor.recordReconnect() })
///     watcher.start()
///     ... robot runs ...
///     await watcher.stop()
public final class BrokerStreamWatcher: @unchecked Sendable {
    public struct Counts: Sendable, Equatable {
        public var orderUpdates = 0
        public var fills = 0
        public var disconnects = 0
        public var reconnects = 0
    }

    private let broker: any BrokerAdapter
    private let alerts: any AlertSink
    private let onReconnect: @Sendable () -> Void
    private let lock = NSLock()
    private var counts = Counts()
    private var connectedOnce: Set<String> = []
    private var task: Task<Void, Never>?

    public init(broker: any BrokerAdapter, alerts: any AlertSink, onReconnect: @escaping @Sendable () -> Void = {}) {
        self.broker = broker
        self.alerts = alerts
        self.onReconnect = onReconnect
    }

    public var streamCounts: Counts { lock.withLock { counts } }

    public func start() {
        let stream = broker.updates()
        let t = Task { [weak self] in
            for await update in stream {
                guard let self else { return }
                self.handle(update)
            }
        }
        lock.withLock { task = t }
    }

    public func stop() async {
        let t = lock.withLock { () -> Task<Void, Never>? in defer { task = nil }; return task }
        t?.cancel()
        await broker.close()
        await t?.value
    }

    func handle(_ update: BrokerUpdate) {
        var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
        switch update {
        case .order: lock.withLock { counts.orderUpdates += 1 }
        case .fill: lock.withLock { counts.fills += 1 }
        case .quote: break
        case .disconnected(let stream, let reason):
            lock.withLock { counts.disconnects += 1 }
            alerts.send(RobotAlert(level: .warning, key: "stream-\(stream)", title: "Broker stream \(stream) lost",
                                   message: "\(reason); reconnecting with backoff (orders and fills are re-queried after)", time: now))
        case .reconnected(let stream):
            let again = lock.withLock { () -> Bool in
                let again = !connectedOnce.insert(stream).inserted
                if again { counts.reconnects += 1 }
                return again
            }
            if again {
                onReconnect()
                alerts.send(RobotAlert(level: .info, key: "stream-\(stream)", title: "Broker stream \(stream) back",
                                       message: "reconnected; updates pushed during the gap are re-queried", time: now))
            }
        }
    }
}
