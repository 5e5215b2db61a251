"""``awgcheck gate``: the pre-merge CI gate.

Reads as the data flow: repository and config -> rules -> base commit ->
check the files and summarise the change -> report -> exit code. Like
``check``, user mistakes end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import click

from awgcheck import __version__
from awgcheck.cli import output
from awgcheck.cli.options import (
    SEVERITIES,
    emit,
    format_option,
    output_option,
    screen_options,
    user_errors,
)
from awgcheck.cli.screen import Screen
from awgcheck.gate import config, fleet, git, run, unmatched
from awgcheck.model import RunMeta, Severity
from awgcheck.report import GATE_FORMATS
from awgcheck.report.rulemeta import with_rules
from awgcheck.ruleset import load as ruleset


@click.command()
@click.option("--base", "base_ref", metavar="REF",
              help="Compare the source of truth with this commit [default: the merge "
                   "base of HEAD with origin/HEAD, else main or master].")
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              help="Gate config [default: awgcheck.yaml at the repository root].")
@format_option(GATE_FORMATS, help="Report format.")
@click.option("--fleet-report", "fleet_report_path", type=click.Path(path_type=Path),
              metavar="REPORT.json",
              help="A previous `check --format json` report: name the nodes this change "
                   "puts into must-match drift until they are updated.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
              help="Lowest severity that fails the gate [default: the config's fail_on, "
                   "else error].")
@click.option("--profile", type=click.Choice(ruleset.PROFILES), default=None,
              help="Rule profile [default: the config's profile, else strict].")
@output_option
@screen_options
@user_errors
def gate(base_ref: str | None, config_path: Path | None, fmt: str,
         fleet_report_path: Path | None, fail_on: str | None, profile: str | None,
         output_path: Path | None, screen: Screen) -> None:
    """Pre-merge gate: a repository's AWG files and its param change.

    Run inside a git repository. awgcheck.yaml names the source of truth
    (a conf or params document) and the consumers (confs, templates, params
    documents, compose files). Each file is checked with the same rules as
    `check` and findings point at its lines; against --base, the gate lists
    the params that changed, their class, what nodes experience until they
    apply the change, and warns when one change flips several must-match
    params. Exit codes as for `check`.
    """
    started = dt.datetime.now(dt.UTC)
    if output_path is not None:
        output.check_writable(output_path)
    repo = git.repo_root(Path.cwd())
    config_file = config_path or repo / config.DEFAULT_NAME
    settings = config.load(config_file, repo)
    rules = config.load_rules(repo, settings)
    fleet_report = (fleet.read(fleet_report_path)
                    if fleet_report_path else None)
    base = git.resolve_base(repo, base_ref)
    report = run.run(repo, settings, rules, base,
                        fail_on=Severity(fail_on) if fail_on else settings.fail_on,
                        profile=profile or settings.profile, fleet_report=fleet_report)
    # The gate's config plays the inventory's part: it names what was checked.
    report = replace(with_rules(report, rules.rules, also=[unmatched.RULE]),
                     run=RunMeta(__version__, started, dt.datetime.now(dt.UTC),
                                 str(config_file), rules.digest))
    emit(GATE_FORMATS.render(fmt, report, screen.layout(output_path)), output_path)
    sys.exit(report.exit_code())
