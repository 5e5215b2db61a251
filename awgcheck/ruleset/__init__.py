"""awgcheck.ruleset.load."""
