/// One execution: part or all of an order filled at one price.
public struct Fill: Sendable, Equatable, Codable {
    public var orderID: Int
    public var symbol: String
    public var side: OrderSide
    public var units: Double
    public var price: Double
    public var commission: Double
    public var time: Int64
    public var bar: Int

    public init(orderID: Int, symbol: String, side: OrderSide, units: Double, price: Double, commission: Double,
                time: Int64, bar: Int) {
        self.orderID = orderID
        self.symbol = symbol
        self.side = side
        self.units = units
        self.price = price
        self.commission = commission
        self.time = time
        self.bar = bar
    }
}
