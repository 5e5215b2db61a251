"""``awgcheck params generate``: a fresh param set, judged by the rules
before it is printed."""

from __future__ import annotations

from pathlib import Path

import click

from awgcheck.cli.options import load_rules, rules_option, user_errors
from awgcheck.rotation import RotationError
from awgcheck.rotation.forms import FORMS
from awgcheck.rotation.generate import GENERATIONS, H_BOUNDS
from awgcheck.rotation.issue import issue
from awgcheck.rotation.private_file import write_private
from awgcheck.rotation.verify import constraint_rules


def _bounds(ctx: click.Context | None, param: click.Parameter | None,
            value: str) -> tuple[int, int]:
    low, dash, high = value.partition("-")
    if not (dash and low.isascii() and low.isdigit() and high.isascii() and high.isdigit()):
        raise click.BadParameter(f"{value!r}: expected LO-HI, two whole numbers", ctx, param)
    bounds = int(low), int(high)
    if bounds[0] > bounds[1] or bounds[1] > 0xFFFFFFFF:
        raise click.BadParameter(f"{value!r}: expected LO <= HI <= 4294967295", ctx, param)
    return bounds


@click.group()
def params() -> None:
    """Param sets: generate a fresh one (see docs/rotation.md)."""


@params.command()
@click.option("--generation", type=click.Choice(GENERATIONS), required=True,
              help="Protocol generation the fleet runs: which params exist (1.5: single H "
                   "values; 2.0: H ranges, S3, S4; 3.1: also HeaderProtectionKey and "
                   "RandomTrailers).")
@click.option("--format", "fmt", type=click.Choice(FORMS), default="conf", show_default=True,
              help="conf: an [Interface] section; epoch: {\"epoch\": N, \"params\": {...}}; "
                   "registration: {\"awg\": {...}} with snake_case keys.")
@click.option("--epoch", type=click.IntRange(0), default=1, show_default=True,
              help="The epoch number of --format epoch.")
@click.option("--h-bounds", default=f"{H_BOUNDS[0]}-{H_BOUNDS[1]}", show_default=True,
              callback=_bounds, metavar="LO-HI",
              help="Where H1-H4 values (and ranges) are drawn from.")
@click.option("--no-header-protection", is_flag=True,
              help="3.1: leave HeaderProtectionKey out.")
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path),
              help="Write the params here (mode 0600, replaced atomically) instead of stdout.")
@rules_option
@user_errors
def generate(generation: str, fmt: str, epoch: int, h_bounds: tuple[int, int],
             no_header_protection: bool, output_path: Path | None,
             rule_paths: tuple[str, ...]) -> None:
    """Print a fresh obfuscation param set drawn from the system's CSPRNG.

    Before it is printed, the set is read back by awgcheck's own reader for
    the format and judged by every rule that judges a param set on its own
    (the shipped constraint rules; --rules replaces them): a set that fails
    is drawn again, 5 times at most, then the command fails (exit 2) naming
    the rule.

    A 3.1 set holds a new HeaderProtectionKey in clear: it goes to stdout or
    to the --output file (mode 0600) only, never to stderr or a log.
    """
    rules = constraint_rules(load_rules(rule_paths))
    if not rules:
        raise RotationError("params generate: the rules hold none that judges a param set "
                            "(a rule reading 'params' documents without a source)")
    text = issue(generation, fmt, rules, epoch=epoch, h_bounds=h_bounds,
                 header_protection=not no_header_protection)
    if output_path is None:
        click.echo(text, nl=False)
    else:
        write_private(output_path, text)
