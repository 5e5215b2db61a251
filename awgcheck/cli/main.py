"""Command line: parse options, run the pipeline, print, exit.

No logic of its own lives here: each command reads as the data flow
inventory -> collect -> parse -> rules -> report -> exit code. User
mistakes (a bad inventory, a broken rule, a missing file) end with a
one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from awgcheck import __version__, exitcodes, inventory
from awgcheck import audit as fleet
from awgcheck import diff as diffing
from awgcheck import inspect as inspecting
from awgcheck.cli import output
from awgcheck.cli.compose import compose_options, inspect_compose
from awgcheck.collect.local import read_local_file
from awgcheck.documents.base import ParamDocument
from awgcheck.errors import AwgcheckError, CollectError, ParseError, UsageError
from awgcheck.model import ArtifactKind, Severity
from awgcheck.parse import awgconf
from awgcheck.report import FORMATS
from awgcheck.report import render as render_report
from awgcheck.ruleset import load as ruleset

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = [s.value for s in Severity]


def _fail(message: str) -> None:
    click.echo(f"awgcheck: error: {message}", err=True)
    sys.exit(exitcodes.USAGE)


def user_errors(func: F) -> F:
    """Turn awgcheck's own errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AwgcheckError as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def rules_option(func: F) -> F:
    return click.option(
        "--rules", "rule_paths", multiple=True, metavar="PATH",
        help="Rule file or folder of *.yaml rules; repeatable. Replaces the shipped "
             "catalog; name 'builtin' to keep it as well.",
    )(func)


def ssh_options(func: F) -> F:
    """Options shared by every command that reads nodes; folded into one
    ``run_options`` argument."""

    @click.option("--concurrency", type=click.IntRange(1, 1024), default=32,
                  show_default=True, help="Nodes read at the same time.")
    @click.option("--timeout", type=click.FloatRange(1, 3600), default=30.0,
                  show_default=True,
                  help="Deadline in seconds for each node as a whole (connect, read, run).")
    @click.option("--ssh-config", type=click.Path(dir_okay=False), default=None,
                  help="ssh_config file to honour [default: ~/.ssh/config when it exists; "
                       "'none' for no file].")
    @click.option("--accept-new-host-keys", is_flag=True,
                  help="Record host keys of hosts not yet in known_hosts (OpenSSH "
                       "accept-new). A changed key is still refused.")
    @functools.wraps(func)
    def wrapper(*args: Any, concurrency: int, timeout: float, ssh_config: str | None,
                accept_new_host_keys: bool, **kwargs: Any) -> Any:
        options = fleet.RunOptions(concurrency, timeout, ssh_config, accept_new_host_keys)
        return func(*args, run_options=options, **kwargs)

    return wrapper  # type: ignore[return-value]


def load_rules(paths: Sequence[str]) -> ruleset.RuleSet:
    if not paths:
        return ruleset.load_shipped()
    rules: list[ruleset.Rule] = []
    for path in paths:
        loaded = ruleset.load_shipped() if path == "builtin" else \
            ruleset.load_paths([Path(path)])
        if path != "builtin" and not Path(path).exists():
            raise UsageError(f"--rules {path}: no such file or folder")
        rules.extend(loaded.rules)
    return ruleset.RuleSet(rules)


@click.group(context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": 100})
@click.version_option(__version__, prog_name="awgcheck")
def main() -> None:
    """Drift detection and conformance checks for AmneziaWG meshes.

    awgcheck reads each node's awg0.conf, compares its obfuscation params
    with the source of truth using declarative YAML rules, and reports what
    differs, what the difference does to the tunnel, and how to fix it.

    \b
    Exit codes:
      0  everything checked and passed
      1  at least one failure at or above --fail-on
      2  usage, inventory or rule error (nothing checked)
      4  no failures, but at least one node could not be checked
      5  failures, and at least one node could not be checked
    """
    # SIGTERM (a CI runner cancelling the job) unwinds like Ctrl+C, so the
    # atomic report writer removes its temporary file.
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@main.command()
@click.option("--inventory", "-i", "inventory_path", required=True,
              type=click.Path(path_type=Path), help="Fleet inventory (YAML).")
@rules_option
@click.option("--profile", type=click.Choice(ruleset.PROFILES), default="strict",
              show_default=True,
              help="strict: side-local params (Jc, Jmin, Jmax, I1-I5) must equal the "
                   "source too; protocol: only what breaks the tunnel fails.")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="table",
              show_default=True, help="Report format.")
@click.option("--output", "-o", "output_path", type=click.Path(path_type=Path),
              help="Write the report here (atomically) instead of stdout.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="error", show_default=True,
              help="Lowest severity that fails the run (exit code 1).")
@click.option("--node", "only", multiple=True, metavar="NAME",
              help="Check only this node (repeatable); the source is always read.")
@click.option("--runtime", is_flag=True,
              help="Also read each SSH node's running interface (awg showconf / awg show "
                   "dump, with sudo -n when the node says so) and compare it with the file "
                   "and the source.")
@ssh_options
@compose_options
@user_errors
def check(inventory_path: Path, rule_paths: Sequence[str], profile: str, fmt: str,
          output_path: Path | None, fail_on: str, only: Sequence[str], runtime: bool,
          run_options: fleet.RunOptions) -> None:
    """Audit every node of the inventory against the source of truth.

    Nodes are read concurrently; a node that cannot be read is reported as
    "could not check" (exit code 4 or 5) and never hides the others. On a
    terminal, progress is shown on stderr; stdout carries only the report.
    """
    if output_path is not None:
        output.check_writable(output_path)
    fleet_file = inventory.load(inventory_path)
    for name in only:
        fleet_file.node(name)
    rules = load_rules(rule_paths)
    progress = Progress(len(fleet_file.nodes)) if sys.stderr.isatty() else None
    report = fleet.audit(fleet_file, rules, profile=profile, fail_on=Severity(fail_on),
                         only=only, options=replace(run_options, runtime=runtime),
                         progress=progress)
    if progress is not None:
        progress.finish()
    emit(render_report(fmt, report, rules.rules), output_path)
    sys.exit(report.exit_code())


class Progress:
    """``[37/200] nodes read, 2 could not be checked`` on one stderr line."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.failed = total, 0, 0

    def __call__(self, read: fleet.NodeRead) -> None:
        self.done += 1
        self.failed += read.error is not None
        click.echo(f"\r[{self.done}/{self.total}] nodes read, {self.failed} could not be "
                   "checked", nl=False, err=True)

    def finish(self) -> None:
        click.echo("\r\033[K", nl=False, err=True)


def emit(text: str, target: Path | None) -> None:
    if target is None:
        click.echo(text, nl=False)
    else:
        output.write_atomic(target, text)


def _read_conf(path: Path) -> awgconf.AwgConf:
    try:
        data = read_local_file(path)
    except CollectError as exc:
        raise UsageError(str(exc)) from None
    return awgconf.parse(data, str(path))


def _node(spec: str, inventory_path: Path | None) -> inventory.Node:
    """A node named on the command line: ``ssh://user@host:port`` or a name
    from the inventory."""
    if spec.startswith("ssh://"):
        return inventory.node_from_url(spec)
    if inventory_path is None:
        raise UsageError(f"{spec}: no such file (to name a node, pass --inventory, or give "
                         "ssh://user@host:port)")
    return inventory.load(inventory_path).node(spec)


def _document(spec: str, inventory_path: Path | None,
              options: fleet.RunOptions) -> tuple[str, ParamDocument]:
    """A diff side: a conf file path, a node name, or an ssh:// URL; with
    ``:runtime`` appended, that node's running interface."""
    path = Path(spec)
    if path.is_file():
        return spec, _read_conf(path)
    wants_runtime = spec.endswith(RUNTIME_SUFFIX)
    node = _node(spec.removesuffix(RUNTIME_SUFFIX), inventory_path)
    read = fleet.read_node(node, replace(options, runtime=wants_runtime))
    if read.error is not None or read.documents is None:
        raise UsageError(f"{spec}: {read.error}")
    kind = ArtifactKind.RUNTIME if wants_runtime else ArtifactKind.CONF
    if kind not in read.documents.docs:
        why = "; ".join(f"{m.why} (to get it: {m.how})" for m in read.missing)
        raise UsageError(f"{spec}: the running state could not be read: {why}")
    return spec, read.documents.docs[kind]


RUNTIME_SUFFIX = ":runtime"


@main.command()
@click.argument("left")
@click.argument("right")
@click.option("--inventory", "-i", "inventory_path", type=click.Path(path_type=Path),
              help="Inventory, to name nodes instead of files.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--only-differences", is_flag=True, help="Hide params that are identical.")
@ssh_options
@user_errors
def diff(left: str, right: str, inventory_path: Path | None, fmt: str,
         only_differences: bool, run_options: fleet.RunOptions) -> None:
    """Compare every param of LEFT and RIGHT (conf files, node names from
    --inventory, or ssh://user@host:port; NODE:runtime for the node's running
    interface).

    Differences are shown with their bytes in hex. Exit code 1 when any
    param drifts (different effective values), 0 otherwise.
    """
    left_name, left_doc = _document(left, inventory_path, run_options)
    right_name, right_doc = _document(right, inventory_path, run_options)
    rows = diffing.compare(left_doc, right_doc)
    if fmt == "json":
        click.echo(json.dumps({"left": left_name, "right": right_name,
                               "params": diffing.as_dict(rows)}, indent=2))
    else:
        click.echo(diffing.render_table(rows, left_name, right_name, only_differences),
                   nl=False)
    sys.exit(exitcodes.FAILED if any(r.verdict.startswith("DRIFT") for r in rows)
             else exitcodes.OK)


@main.group()
def inspect() -> None:
    """Show what awgcheck reads from one artifact."""


@inspect.command("conf")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@user_errors
def inspect_conf(path: Path, fmt: str) -> None:
    """Parse PATH as awg-quick would and show every key, raw and effective.

    `loads` tells whether `awg-quick up` would accept the file. Secrets are
    shown as sha256 digests. Exit code 1 when the file would not load.
    """
    try:
        conf = _read_conf(path)
    except ParseError as exc:
        raise UsageError(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(inspecting.conf_as_dict(conf), indent=2, ensure_ascii=False))
    else:
        click.echo(inspecting.render_conf_table(conf), nl=False)
    sys.exit(exitcodes.OK if conf.loads else exitcodes.FAILED)


@main.group()
def rules() -> None:
    """List and explain the rules."""


@rules.command("list")
@rules_option
@user_errors
def rules_list(rule_paths: Sequence[str]) -> None:
    """One line per rule: id, severity, title."""
    from tabulate import tabulate

    loaded = load_rules(rule_paths)
    rows = [[r.id, r.severity.value, r.select.artifact_names, r.title] for r in loaded.rules]
    click.echo(tabulate(rows, headers=["id", "severity", "reads", "title"], tablefmt="simple"))


@rules.command("show")
@click.argument("rule_id")
@rules_option
@user_errors
def rules_show(rule_id: str, rule_paths: Sequence[str]) -> None:
    """Everything about one rule: what it checks, why, and how to fix it."""
    loaded = load_rules(rule_paths)
    rule = loaded.by_id.get(rule_id)
    if rule is None:
        raise UsageError(f"no rule with id '{rule_id}' (see `awgcheck rules list`)")
    selected = "every key" if rule.select.all_params else ", ".join(rule.select.params)
    reads = f"{rule.select.artifact_names}, [{rule.select.section}], {selected}"
    if rule.select.compose is not None:
        reads = f"compose: {rule.select.compose.describe()}"
    lines = [
        f"{rule.id}: {rule.title}",
        f"severity:    {rule.severity.value}"
        + "".join(f" ({p} profile: {s.value})" for p, s in rule.profiles.items()),
        f"reads:       {reads}",
        f"check:       {rule.check.type}",
        "",
        rule.description,
        "",
        f"fix: {rule.remediation}",
    ]
    for param, text in rule.applicable_symptoms().items():
        lines.append(f"symptom ({param}): {text}")
    click.echo("\n".join(lines))


from awgcheck.cli.gate import gate  # noqa: E402  (attached here, not by import side effect)

main.add_command(gate)


from awgcheck.cli.triage import triage  # noqa: E402  (it imports this module's helpers)

main.add_command(triage)
inspect.add_command(inspect_compose)
