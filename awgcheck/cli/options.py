"""What the commands share: option bundles as decorators, and the helpers
that turn command-line words into inputs (rules, a conf file) and a
rendered report into output.

Every command module imports from here and nothing imports a command
module but :mod:`awgcheck.cli.main`, so there is no import cycle.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from awgcheck import ansible_inventory, exitcodes, inventory, nodes
from awgcheck.cli import output
from awgcheck.cli.screen import COLOUR_CHOICES, Screen
from awgcheck.collect.local import read_local_file
from awgcheck.collect.ssh.ssh_config import SshConfig
from awgcheck.concurrency import BASTION_CHANNELS
from awgcheck.documents.compose import MODES
from awgcheck.errors import AwgcheckError, CollectError, UsageError
from awgcheck.model import Severity
from awgcheck.parse import awgconf
from awgcheck.report.layout import MIN_WIDTH
from awgcheck.report.registry import Formats
from awgcheck.ruleset import load as ruleset
from awgcheck.text import printable

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = [s.value for s in Severity]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# --- errors and output ---------------------------------------------------------------


def user_errors(func: F) -> F:
    """Turn awgcheck's own errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AwgcheckError as exc:
            click.echo(f"awgcheck: error: {printable(str(exc))}", err=True)
            sys.exit(exitcodes.USAGE)

    return wrapper  # type: ignore[return-value]


def say(level: str, message: str) -> None:
    """One ``awgcheck: LEVEL: message`` line on stderr, escaped."""
    click.echo(f"awgcheck: {level}: {printable(message)}", err=True)


def warn(message: str) -> None:
    """One warning line on stderr, escaped: the run goes on."""
    say("warning", message)


def format_option(formats: Formats[Any], help: str | None = None) -> Callable[[F], F]:
    """``--format``, its choices and default taken from ``formats`` (the
    command renders with ``formats.render(fmt, value)``)."""
    return click.option("--format", "fmt", type=click.Choice(formats.names),
                        default=formats.default, show_default=True, help=help)


def output_option(func: F) -> F:
    """``--output``/``-o``: write the report to a file instead of stdout."""
    return click.option(
        "--output", "-o", "output_path", type=click.Path(path_type=Path),
        help="Write the report here instead of stdout: a file is replaced atomically "
             "(through a symlink, its target), a device or FIFO is written to.")(func)


def screen_options(func: F) -> F:
    """``--width N`` and ``--color auto|always|never`` for a command that
    prints tables, folded into one ``screen`` argument
    (:class:`~awgcheck.cli.screen.Screen`)."""

    @click.option("--width", type=click.IntRange(MIN_WIDTH, 10_000), default=None,
                  metavar="N",
                  help="Draw the table formats N columns wide [default: COLUMNS, else the "
                       "terminal's width, else 100].")
    @click.option("--color", "colour", type=click.Choice(COLOUR_CHOICES), default="auto",
                  show_default=True,
                  help="Colour severities in the table formats: auto colours only a "
                       "terminal, and not when NO_COLOR is set or TERM is dumb; a report "
                       "written to a file is never coloured.")
    @functools.wraps(func)
    def wrapper(*args: Any, width: int | None, colour: str, **kwargs: Any) -> Any:
        return func(*args, screen=Screen(width, colour), **kwargs)

    return wrapper  # type: ignore[return-value]


def emit(text: str | Iterable[str], target: Path | None) -> None:
    """Print a rendered report, or write it atomically to ``target``; a
    report made in pieces (:meth:`awgcheck.report.registry.Formats.pieces`)
    is written as they come."""
    if target is not None:
        output.write_atomic(target, text)
        return
    # color=True: click would strip the colour --color always asked for; the
    # text holds no other escape (awgcheck.text escaped it).
    for piece in output.writes(text):
        click.echo(piece, nl=False, color=True)


# --- inputs ------------------------------------------------------------------------


def rules_option(func: F) -> F:
    """``--rules PATH`` (repeatable), read with :func:`load_rules`."""
    return click.option(
        "--rules", "rule_paths", multiple=True, metavar="PATH",
        help="Rule file or folder of *.yaml rules; repeatable. Replaces the shipped "
             "catalog; name 'builtin' to keep it as well.",
    )(func)


def load_rules(paths: Sequence[str]) -> ruleset.RuleSet:
    """The rules named by ``--rules`` (``builtin`` is the shipped catalog);
    the catalog alone when none is named."""
    return ruleset.load_named(paths, missing=lambda path: UsageError(
        f"--rules {path}: no such file or folder"))


def read_conf(path: Path, *, any_bytes: bool = False) -> awgconf.AwgConf:
    """A conf file named on the command line; a file that cannot be read is
    a usage error. ``any_bytes``: read a file that is not a conf at all as
    the tool would (it does not load) instead of refusing it."""
    try:
        data = read_local_file(path)
    except CollectError as exc:
        raise UsageError(str(exc)) from None
    return awgconf.parse(data, str(path), any_bytes=any_bytes)


def ansible_inventory_option(func: F) -> F:
    """``--ansible-inventory FILE``, the other way to name the fleet beside
    ``--inventory``; :func:`load_fleet` takes exactly one of them."""
    return click.option(
        "--ansible-inventory", "ansible_path", type=click.Path(path_type=Path),
        metavar="FILE",
        help="An Ansible inventory instead of --inventory: INI, YAML or a folder (read "
             "with ansible-inventory, from ansible-core), or the saved JSON of "
             "`ansible-inventory --list`. Every host is a node, its groups awgcheck "
             "groups; the var awgcheck_mesh declares the mesh (docs/topology.md).",
    )(func)


def source_option(func: F) -> F:
    """``--source NODE|PATH``: the source of truth instead of the inventory's."""
    return click.option(
        "--source", metavar="NODE|PATH",
        help="Source of truth: a node, or a conf or params document file [default: "
             "the inventory's 'source', or the Ansible var awgcheck_source].",
    )(func)


def load_fleet(inventory_path: Path | None, ansible_path: Path | None,
               source: str | None = None) -> inventory.Inventory:
    """The fleet from ``--inventory`` (awgcheck's YAML) or
    ``--ansible-inventory``, exactly one of them; ``source`` is
    ``--source``, which replaces the inventory's own source of truth."""
    if (inventory_path is None) == (ansible_path is None):
        raise UsageError("name the fleet with --inventory FILE (awgcheck's YAML) or "
                         "--ansible-inventory FILE (an Ansible inventory), one of them")
    if ansible_path is not None:
        return ansible_inventory.load(ansible_path, source)
    assert inventory_path is not None
    return inventory.load(inventory_path, source)


# --- reading nodes -----------------------------------------------------------------


def ssh_options(func: F) -> F:
    """Options shared by every command that reads nodes; folded into one
    ``run_options`` argument."""

    @click.option("--concurrency", type=click.IntRange(1, 1024), default=None,
                  help="Nodes read at the same time [default: every node, at most 128, and "
                       "no more than the open-file limit (ulimit -n) allows].")
    @click.option("--bastion-channels", type=click.IntRange(1, 1024), default=BASTION_CHANNELS,
                  show_default=True,
                  help="Nodes reached at the same time through one ProxyJump bastion (the "
                       "nodes behind a bastion share one connection to it, one channel each).")
    @click.option("--timeout", type=click.FloatRange(1, 3600), default=30.0,
                  show_default=True,
                  help="Deadline in seconds for each node as a whole (connect, read, run, "
                       "check its rules).")
    @ssh_config_option
    @click.option("--accept-new-host-keys", is_flag=True,
                  help="Record host keys of hosts not yet in known_hosts (OpenSSH "
                       "accept-new). A changed key is still refused.")
    @functools.wraps(func)
    def wrapper(*args: Any, concurrency: int | None, bastion_channels: int, timeout: float,
                ssh_config: str | None, accept_new_host_keys: bool, **kwargs: Any) -> Any:
        options = nodes.RunOptions(concurrency, timeout, ssh_config, accept_new_host_keys,
                                   bastion_channels=bastion_channels)
        # One scope for the command: triage and diff read two nodes, and
        # both share a bastion connection as the audit's nodes do.
        with nodes.shared_connections(options) as shared:
            return func(*args, run_options=shared, **kwargs)

    return wrapper  # type: ignore[return-value]


def ssh_config_option(func: F) -> F:
    """``--ssh-config FILE|none`` (``ssh -F``); an unreadable file is exit 2."""
    return click.option(
        "--ssh-config", type=click.Path(dir_okay=False), default=None,
        callback=_ssh_config_file,
        help="ssh_config file to honour, as `ssh -F` [default: ~/.ssh/config when it "
             "exists, then /etc/ssh/ssh_config; 'none' for no file].")(func)


def _ssh_config_file(ctx: click.Context | None, param: click.Parameter | None,
                     value: str | None) -> str | None:
    """``--ssh-config``: a file that cannot be read is a usage error (exit
    2) naming it, not the same error repeated for every node."""
    if value is not None and value != "none":
        try:
            SshConfig.named(value).check()
        except CollectError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return value


def parse_env(ctx: click.Context | None, param: click.Parameter | None,
              values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` words, as click callback; a bad one is a usage error."""
    pairs = []
    for value in values:
        key, eq, text = value.partition("=")
        if not eq or not _NAME.fullmatch(key):
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE with a variable name as "
                                     "KEY", ctx, param)
        pairs.append((key, text))
    return tuple(pairs)


def compose_env_option(func: F) -> F:
    """``--compose-env KEY=VALUE`` (repeatable), as a tuple of pairs."""
    return click.option(
        "--compose-env", "compose_env", multiple=True, metavar="KEY=VALUE",
        callback=parse_env,
        help="A variable for compose interpolation, as if exported in the shell that "
             "starts the stack (wins over .env); repeatable.")(func)


def compose_options(func: F) -> F:
    """``--compose-env`` and ``--compose-mode``, folded into the command's
    ``run_options`` (place it below ``ssh_options``, which builds them)."""

    @compose_env_option
    @click.option("--compose-mode", type=click.Choice(MODES), default="file",
                  show_default=True,
                  help="file: resolve the nodes' compose files with awgcheck's reader (no "
                       "Docker needed); node: run `docker compose config` on each SSH node.")
    @functools.wraps(func)
    def wrapper(*args: Any, compose_env: tuple[tuple[str, str], ...], compose_mode: str,
                run_options: nodes.RunOptions, **kwargs: Any) -> Any:
        options = replace(run_options, compose_mode=compose_mode, compose_env=compose_env)
        return func(*args, run_options=options, **kwargs)

    return wrapper  # type: ignore[return-value]
