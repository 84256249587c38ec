import Common
import Foundation
import Trading

/// Alpaca's push streams for a broker: the trading stream (`trade_updates`: order events and fills, JSON in binary
/// frames) and, when quote symbols are set, the market-data stream (quotes, text frames), each kept alive with
/// pings, reconnected with jittered exponential backoff after a drop, a refusal or a silence longer than
/// `streamSilenceLimit` ("connected" but nothing arriving), and announced to subscribers with `.reconnected` —
/// Alpaca does not replay what was pushed while a stream was down, so a subscriber re-queries orders and fills then.
///
/// Streams start with the first subscriber and stop with `stop()`; each subscriber has its own bounded buffer
/// (the newest 10,000 updates are kept if it falls behind).
final class AlpacaStreams: @unchecked Sendable {
    typealias Rename = @Sendable (_ venueOrderID: String, _ fallback: String) async -> String

    let configuration: AlpacaConfiguration
    /// Symbols whose quotes are streamed from the market-data stream (none: no data stream).
    let quoteSymbols: [String]
    private let lock = NSLock()
    private var subscribers: [UUID: AsyncStream<BrokerUpdate>.Continuation] = [:]
    private var tasks: [Task<Void, Never>] = []
    private var rename: Rename?
    private var stopped = false
    /// When the trading stream must have said something: set by an order the broker just sent, cancelled or
    /// replaced (Alpaca pushes `new`, `fill`, `canceled`, `replaced`...), cleared by any trade update. A stream that stays
    /// quiet past it is "connected" but silent: it is reconnected and the gap re-queried.
    private var expectedBy: Date?
    /// Between reconnect attempts: 0.25 s doubling to at most 60 s, each wait drawn from its upper half.
    static let reconnectBackoff = RetryPolicy(baseDelay: 0.25, maxDelay: 60, jitter: 0.5)

    init(configuration: AlpacaConfiguration, quoteSymbols: [String] = []) {
        self.configuration = configuration
        self.quoteSymbols = quoteSymbols
    }

    func subscribe(rename: @escaping Rename) -> AsyncStream<BrokerUpdate> {
        let (stream, continuation) = AsyncStream<BrokerUpdate>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id = UUID()
        let start = lock.withLock { () -> Bool in
            if stopped {
                continuation.finish()
                return false
            }
            subscribers[id] = continuation
            self.rename = rename
            return tasks.isEmpty
        }
        continuation.onTermination = { [weak self] _ in self?.lock.withLock { _ = self?.subscribers.removeValue(forKey: id) } }
        if start {
            var started: [Task<Void, Never>] = [Task { [weak self] in await self?.run(stream: "trade_updates") }]
            if !quoteSymbols.isEmpty { started.append(Task { [weak self] in await self?.run(stream: "quotes") }) }
            lock.withLock { tasks = started }
        }
        return stream
    }

    func stop() async {
        let (running, subs) = lock.withLock { () -> ([Task<Void, Never>], [AsyncStream<BrokerUpdate>.Continuation]) in
            stopped = true
            defer { tasks = []; subscribers = [:] }
            return (tasks, Array(subscribers.values))
        }
        for t in running { t.cancel() }
        for t in running { await t.value }
        for s in subs { s.finish() }
    }

    /// An order was just sent, cancelled or replaced: a trade update must follow within the silence limit.
    func expectActivity() {
        lock.withLock {
            guard !tasks.isEmpty, expectedBy == nil else { return }
            expectedBy = Date().addingTimeInterval(configuration.streamSilenceLimit)
        }
    }

    private func publish(_ update: BrokerUpdate) {
        for s in lock.withLock({ Array(subscribers.values) }) { s.yield(update) }
    }

    // MARK: Connection loop

    /// Why a stream ended, in words (for the alert and the log).
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Connect → authenticate → listen/subscribe → read until lost; then back off and start again, until stopped.
    private func run(stream: String) async {
        var failures = 0
        while !Task.isCancelled {
            let why: String
            do {
                let socket = try await connect(stream: stream)
                failures = 0
                if stream == "trade_updates" { lock.withLock { expectedBy = nil } }
                publish(.reconnected(stream: stream))
                why = await read(socket, stream: stream)
                socket.close()
            } catch {
                why = "\(error)"
            }
            if Task.isCancelled { return }
            failures += 1
            publish(.disconnected(stream: stream, reason: why))
            var rng = SystemRandomNumberGenerator()
            let delay = Self.reconnectBackoff.delay(afterAttempt: failures, error: .transient(why), using: &rng)
            Log.warning("alpaca stream lost; reconnecting", ["stream": stream, "why": why, "delay_s": String(format: "%.2f", delay)])
            try? await Task.sleep(nanoseconds: RetryAfter.nanoseconds(delay))
        }
    }

    /// A connected, authorised, listening stream.
    private func connect(stream: String) async throws -> WebSocketConnection {
        let c = configuration
        let trading = stream == "trade_updates"
        let url = trading ? c.resolvedTradingStreamURL : c.resolvedDataStreamURL(crypto: quoteSymbols.allSatisfy(AlpacaSource.isCrypto))
        let socket = try await WebSocketConnection.connect(url: url, timeout: min(30, c.timeout),
                                                           pingInterval: max(0.5, c.streamSilenceLimit / 3))
        // The handshake must finish in time: a watchdog closes a socket that stalls it.
        let watchdog = Task {
            try? await Task.sleep(nanoseconds: RetryAfter.nanoseconds(c.timeout))
            if !Task.isCancelled { socket.close(code: 1000, reason: "authentication timed out") }
        }
        defer { watchdog.cancel() }
        do {
            if trading {
                try await socket.send(text: Self.encode(["action": "authenticate",
                                                         "data": ["key_id": c.keyID ?? "", "secret_key": c.secretKey ?? ""]]))
                try await expect(socket) { o in
                    guard o["stream"] as? String == "authorization" else { return nil }
                    return (o["data"] as? [String: Any])?["status"] as? String == "authorized"
                }
                try await socket.send(text: Self.encode(["action": "listen", "data": ["streams": ["trade_updates"]]]))
                try await expect(socket) { o in o["stream"] as? String == "listening" ? true : nil }
            } else {
                try await expect(socket) { o in o["T"] as? String == "success" ? true : nil }
                try await socket.send(text: Self.encode(["action": "auth", "key": c.keyID ?? "", "secret": c.secretKey ?? ""]))
                try await expect(socket) { o in
                    if o["T"] as? String == "error" { return false }
                    return o["T"] as? String == "success" && o["msg"] as? String == "authenticated" ? true : nil
                }
                try await socket.send(text: Self.encode(["action": "subscribe", "quotes": quoteSymbols]))
                try await expect(socket) { o in o["T"] as? String == "subscription" ? true : nil }
            }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Reads messages until the decision closure says true (success) or false (refused).
    private func expect(_ socket: WebSocketConnection, _ decide: ([String: Any]) -> Bool?) async throws {
        while true {
            guard let message = try await socket.receive() else { throw Failure(description: "closed during authentication") }
            for object in Self.objects(message) {
                guard let verdict = decide(object) else { continue }
                if verdict { return }
                let detail = (object["msg"] as? String) ?? ((object["data"] as? [String: Any])?["status"] as? String) ?? "refused"
                throw Failure(description: "Alpaca stream authentication refused: \(UntrustedText.sanitized(detail, limit: 80))")
            }
        }
    }

    /// Reads until the connection is lost or silent; returns why it ended. The trading stream is silent when no
    /// frame at all arrives (pongs count: no order activity is normal); the data stream when no data arrives.
    private func read(_ socket: WebSocketConnection, stream: String) async -> String {
        let limit = configuration.streamSilenceLimit
        let lastData = LockedTime(Date())
        let silent = LockedTime(nil)
        let trading = stream == "trade_updates"
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: RetryAfter.nanoseconds(min(1, limit / 4)))
                let last = trading ? socket.lastReceived : (lastData.value ?? Date())
                let overdue = trading && (self.lock.withLock { self.expectedBy }.map { Date() > $0 } ?? false)
                if Date().timeIntervalSince(last) > limit || overdue {
                    silent.value = Date()
                    socket.close(code: 1000, reason: "silent")
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        while !Task.isCancelled {
            let message: WebSocketMessage?
            do {
                message = try await socket.receive()
            } catch {
                return silent.value != nil ? "silent for more than \(Int(limit)) s" : "\(error)"
            }
            guard let message else { return silent.value != nil ? "silent for more than \(Int(limit)) s" : "closed by Alpaca" }
            let objects = Self.objects(message)
            if objects.contains(where: { $0["T"] as? String == "q" || $0["T"] as? String == "b" }) { lastData.value = Date() }
            if trading, objects.contains(where: { $0["stream"] as? String == "trade_updates" }) {
                lock.withLock { expectedBy = nil }
            }
            for object in objects {
                if trading { await tradeUpdate(object) } else { quote(object) }
            }
        }
        return "stopped"
    }

    /// A time behind a lock (watchdog and reader share it).
    final class LockedTime: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Date?
        init(_ value: Date?) { stored = value }
        var value: Date? {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    private func tradeUpdate(_ object: [String: Any]) async {
        guard object["stream"] as? String == "trade_updates", let data = object["data"] as? [String: Any],
              let orderJSON = data["order"] as? [String: Any], let order = try? AlpacaOrder(json: orderJSON) else { return }
        let rename = lock.withLock { self.rename }
        let ours = await rename?(order.id, order.clientOrderID) ?? order.clientOrderID
        publish(.order(order.report(as: ours)))
        let event = data["event"] as? String
        if event == "fill" || event == "partial_fill", let execution = data["execution_id"] as? String,
           let price = try? AlpacaOrder.number(data["price"], "price"), let qty = try? AlpacaOrder.number(data["qty"], "qty"),
           let time = AlpacaOrder.time(data["timestamp"]) {
            publish(.fill(FillReport(clientOrderID: ours, fillID: execution, symbol: order.symbol, side: order.side,
                                     units: abs(qty), price: price, commission: 0, time: time)))
        }
    }

    private func quote(_ object: [String: Any]) {
        guard object["T"] as? String == "q", let symbol = object["S"] as? String,
              let bid = (object["bp"] as? NSNumber)?.doubleValue, let ask = (object["ap"] as? NSNumber)?.doubleValue,
              bid.isFinite, ask.isFinite, let time = AlpacaOrder.time(object["t"]) else { return }
        publish(.quote(symbol: symbol, bid: bid, ask: ask, time: time))
    }

    /// The JSON objects of a message: the trading stream sends one object, the data stream an array of them.
    static func objects(_ message: WebSocketMessage) -> [[String: Any]] {
        let parsed = try? JSONSerialization.jsonObject(with: Data(message.bytes))
        if let one = parsed as? [String: Any] { return [one] }
        return (parsed as? [Any])?.compactMap { $0 as? [String: Any] } ?? []
    }

    static func encode(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
