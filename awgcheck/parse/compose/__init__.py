"""awgcheck.parse.compose.project."""
