/// What a venue says about one order, keyed by the client order id the robot gave it.
public struct OrderReport: Sendable, Equatable, Codable {
    public var clientOrderID: String
    /// The venue's own id (the simulated broker's order index, Alpaca's UUID, an MT5 ticket).
    public var venueOrderID: String
    public var symbol: String
    public var side: OrderSide
    public var status: OrderStatus
    /// Units the order trades (nil until known, e.g. an equity-fraction order before its first fill).
    public var quantity: Double?
    public var filledQuantity: Double
    public var averageFillPrice: Double
    /// Why it was rejected or cancelled, in the venue's words.
    public var reason: String?
    /// When the venue last changed it (UTC ms).
    public var time: Int64

    public init(clientOrderID: String, venueOrderID: String, symbol: String, side: OrderSide, status: OrderStatus,
                quantity: Double?, filledQuantity: Double, averageFillPrice: Double, reason: String? = nil, time: Int64) {
        self.clientOrderID = clientOrderID
        self.venueOrderID = venueOrderID
        self.symbol = symbol
        self.side = side
        self.status = status
        self.quantity = quantity
        self.filledQuantity = filledQuantity
        self.averageFillPrice = averageFillPrice
        self.reason = reason
        self.time = time
    }
}

/// One execution as a venue reports it.
public struct FillReport: Sendable, Equatable, Codable {
    public var clientOrderID: String
    /// Unique per execution at the venue (deduplicates re-delivered events).
    public var fillID: String
    public var symbol: String
    public var side: OrderSide
    public var units: Double
    public var price: Double
    public var commission: Double
    public var time: Int64

    public init(clientOrderID: String, fillID: String, symbol: String, side: OrderSide, units: Double, price: Double,
                commission: Double, time: Int64) {
        self.clientOrderID = clientOrderID
        self.fillID = fillID
        self.symbol = symbol
        self.side = side
        self.units = units
        self.price = price
        self.commission = commission
        self.time = time
    }
}

/// A venue's position in one symbol.
public struct PositionReport: Sendable, Equatable, Codable {
    public var symbol: String
    /// Signed units.
    public var quantity: Double
    public var averagePrice: Double
    public var mark: Double?
    /// Σ size × entry when the venue books it (exact; `quantity × averagePrice` may differ in the last bit).
    public var costBasis: Double?

    public init(symbol: String, quantity: Double, averagePrice: Double, mark: Double? = nil, costBasis: Double? = nil) {
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.mark = mark
        self.costBasis = costBasis
    }
}

/// A venue's account: the figures reconciliation takes as the truth.
public struct AccountReport: Sendable, Equatable, Codable {
    public var time: Int64
    /// Settled balance (see `Portfolio`).
    public var balance: Double
    public var equity: Double
    /// What new positions may still use (margin available × leverage, or a cash account's buying power).
    public var buyingPower: Double
    public var positions: [PositionReport]

    public init(time: Int64, balance: Double, equity: Double, buyingPower: Double, positions: [PositionReport]) {
        self.time = time
        self.balance = balance
        self.equity = equity
        self.buyingPower = buyingPower
        self.positions = positions
    }
}
