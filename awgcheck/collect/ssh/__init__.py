"""awgcheck.collect.ssh.connect."""
