// The Features module. See README.md for the layout.
