"""Entry point for ``python -m awgcheck``."""

from awgcheck.cli.process import run

run()
