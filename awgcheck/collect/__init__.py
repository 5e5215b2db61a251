"""Transports that fetch a node's artifacts: one module per transport."""
