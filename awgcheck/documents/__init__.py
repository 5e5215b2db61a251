"""awgcheck.documents."""
