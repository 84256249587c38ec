// The simulator is one venue of the `Trading` module's order model: code that runs backtests (`import Simulation`)
// sees orders, fills, instruments and the strategy protocol without a second import.
@_exported import Trading
