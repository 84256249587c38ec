// The Training module. See README.md for the layout.
