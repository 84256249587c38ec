// The Engine module. See README.md for the layout.
