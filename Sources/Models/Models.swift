// The Models module. See README.md for the layout.
