"""awgcheck.cli.main."""
