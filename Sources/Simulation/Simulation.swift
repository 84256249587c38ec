// The Simulation module. See README.md for the layout.
