"""awgcheck.triage.run."""
