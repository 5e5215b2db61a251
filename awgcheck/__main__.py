"""Entry point for ``python -m awgcheck``."""

from awgcheck.cli import main

main(prog_name="awgcheck")
