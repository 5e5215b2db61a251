"""Rule files: the schema and loading (:mod:`awgcheck.ruleset.load`)."""
