"""``awgcheck gate``: the pre-merge CI gate, as a click command.

Attached to the ``awgcheck`` group explicitly in cli.py (no registration by
import side effect). It reads as the data flow: repository and config ->
rules -> base commit -> check the files and summarise the change -> report
-> exit code. Like ``check``, user mistakes end with one line on stderr and
exit code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from awgcheck import exitcodes
from awgcheck.cli import output
from awgcheck.errors import AwgcheckError
from awgcheck.gate import change as gate_change
from awgcheck.gate import config as gate_config
from awgcheck.gate import git as gate_git
from awgcheck.gate import run as gating
from awgcheck.model import Severity
from awgcheck.report import FORMATS, render
from awgcheck.ruleset import load as ruleset

SEVERITIES = [s.value for s in Severity]


def load_rules(repo: Path, config: gate_config.GateConfig) -> ruleset.RuleSet:
    """The config's rules (``builtin`` names the catalog), else the catalog."""
    if not config.rules:
        return ruleset.load_shipped()
    rules: list[ruleset.Rule] = []
    for entry in config.rules:
        if entry == "builtin":
            rules.extend(ruleset.load_shipped().rules)
            continue
        path = repo / entry
        if not path.exists():
            raise gate_config.GateConfigError(f"{config.path}: key 'rules': {entry} is not "
                                              f"a file or folder in {repo}")
        rules.extend(ruleset.load_paths([path]).rules)
    return ruleset.RuleSet(rules)


def load_fleet_report(path: Path) -> Mapping[str, Any]:
    """A previous ``check --format json`` report, for the impact prediction."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise gate_config.GateConfigError(f"--fleet-report {path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise gate_config.GateConfigError(f"--fleet-report {path}: cannot read a JSON "
                                          f"report: {exc}") from None
    return gate_change.load_fleet_report(data, str(path))


def _run(base_ref: str | None, config_path: Path | None, fmt: str,
         fleet_report_path: Path | None, fail_on: str | None, profile: str | None,
         output_path: Path | None) -> int:
    if output_path is not None:
        output.check_writable(output_path)
    repo = gate_git.repo_root(Path.cwd())
    config = gate_config.load(config_path or repo / gate_config.DEFAULT_NAME, repo)
    rules = load_rules(repo, config)
    fleet_report = load_fleet_report(fleet_report_path) if fleet_report_path else None
    base = gate_git.resolve_base(repo, base_ref)
    report = gating.run(repo, config, rules, base,
                        fail_on=Severity(fail_on) if fail_on else config.fail_on,
                        profile=profile or config.profile, fleet_report=fleet_report)
    text = render(fmt, report, rules.rules)
    if output_path is None:
        click.echo(text, nl=False)
    else:
        output.write_atomic(output_path, text)
    return report.exit_code()


@click.command()
@click.option("--base", "base_ref", metavar="REF",
              help="Compare the source of truth with this commit [default: the merge "
                   "base of HEAD with origin/HEAD, else main or master].")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Gate config [default: awgcheck.yaml at the repository root].")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="table",
              show_default=True, help="Report format.")
@click.option("--fleet-report", "fleet_report_path", type=click.Path(path_type=Path),
              metavar="REPORT.json",
              help="A previous `check --format json` report: name the nodes this change "
                   "puts into must-match drift until they are updated.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Lowest severity that fails the gate [default: the config's fail_on, "
                   "else error].")
@click.option("--profile", type=click.Choice(ruleset.PROFILES), default=None,
              help="Rule profile [default: the config's profile, else strict].")
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path),
              help="Write the report here (atomically) instead of stdout.")
def gate(base_ref: str | None, config_path: Path | None, fmt: str,
                 fleet_report_path: Path | None, fail_on: str | None, profile: str | None,
                 output_path: Path | None) -> None:
    """Pre-merge gate: a repository's AWG files and its param change.

    Run inside a git repository. awgcheck.yaml names the source of truth
    (a conf or params document) and the consumers (confs, templates, params
    documents, compose files). Each file is checked with the same rules as
    `check` and findings point at its lines; against --base, the gate lists
    the params that changed, their class, what nodes experience until they
    apply the change, and warns when one change flips several must-match
    params. Exit codes as for `check`.
    """
    try:
        code = _run(base_ref, config_path, fmt, fleet_report_path, fail_on, profile,
                    output_path)
    except AwgcheckError as exc:
        click.echo(f"awgcheck: error: {exc}", err=True)
        code = exitcodes.USAGE
    sys.exit(code)
