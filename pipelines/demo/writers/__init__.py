"""One writer per output shape of the demo generator."""
