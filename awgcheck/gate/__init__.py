"""awgcheck.gate.run."""
