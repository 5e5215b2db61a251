"""Entry point for ``python -m awgcheck``."""

from awgcheck.cli.main import main

main(prog_name="awgcheck")
