// The MarketData module. See README.md for the layout.
