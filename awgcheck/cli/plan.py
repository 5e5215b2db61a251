"""``awgcheck plan --to NEW --inventory FILE``: the steps of a param rotation."""

from __future__ import annotations

from pathlib import Path

import click

from awgcheck import inventory, nodes
from awgcheck.cli.options import (
    SEVERITIES,
    emit,
    format_option,
    load_rules,
    output_option,
    rules_option,
    screen_options,
    ssh_options,
    user_errors,
    warn,
)
from awgcheck.cli.screen import Screen
from awgcheck.documents import params
from awgcheck.errors import CollectError, ParseError
from awgcheck.model import ArtifactKind, Severity
from awgcheck.parse.awgconf import AwgConf
from awgcheck.rotation import RotationError
from awgcheck.rotation.fleet import fleet_of, read_current
from awgcheck.rotation.plan import build
from awgcheck.rotation.render import FORMATS
from awgcheck.rotation.verify import at_least, constraint_rules, describe, violations


@click.command()
@click.option("--to", "new_path", type=click.Path(path_type=Path), required=True,
              metavar="NEW", help="The new params: a conf or a params document (epoch or "
                                  "registration JSON/YAML), e.g. from `params generate`; "
                                  "a file named .json/.yaml/.yml is a params document, "
                                  "any other is told apart by content.")
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              required=True, help="The fleet; its source of truth holds the current params.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="warning", show_default=True,
              help="Refuse NEW when a rule fails on it at or above this severity; milder "
                   "failures are printed as warnings.")
@format_option(FORMATS)
@output_option
@screen_options
@rules_option
@ssh_options
@user_errors
def plan(new_path: Path, inventory_path: Path, fail_on: str, fmt: str,
         output_path: Path | None, screen: Screen,
         rule_paths: tuple[str, ...], run_options: nodes.RunOptions) -> None:
    """Print the steps that move the fleet from its source of truth's params
    to NEW: which nodes apply which params in what order, what each tunnel
    does until the step is done (the symptom table), and the check to run
    after each step.

    NEW is refused (exit 2) when it fails a rule that judges a param set on
    its own (the shipped constraint rules, and for a conf conf-loads and
    the hazard rules, as check runs them; --rules replaces them) at or
    above --fail-on, naming the rule and line; so is a source of truth that
    cannot be read.
    """
    rules = constraint_rules(load_rules(rule_paths))
    try:
        new = params.read_source(new_path)  # a conf or a params document, as a source is
    except (CollectError, ParseError) as exc:
        raise RotationError(f"--to {new_path}: {exc}") from None
    kind = ArtifactKind.CONF if isinstance(new, AwgConf) else ArtifactKind.PARAMS
    refused, noted = at_least(violations(new, kind, rules), Severity(fail_on))
    for finding in noted:
        warn(f"--to {new_path}: {describe(finding)}")
    if refused:
        raise RotationError(f"--to {new_path}: the new params fail "
                            f"{'; '.join(describe(f) for f in refused)}")
    fleet_file = inventory.load(inventory_path)
    current = read_current(fleet_file, run_options)
    made = build(current, new, str(new_path), fleet_of(fleet_file, str(inventory_path)), rules)
    emit(FORMATS.render(fmt, made, screen.layout(output_path)), output_path)
