"""``awgcheck inspect conf|compose|ssh``: what awgcheck reads from one
artifact, or how it will reach one node."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from awgcheck import exitcodes, inventory
from awgcheck.cli.options import (
    compose_env_option,
    emit,
    format_option,
    read_conf,
    screen_options,
    ssh_config_option,
    user_errors,
)
from awgcheck.cli.screen import Screen
from awgcheck.inspect import compose as inspect_compose
from awgcheck.inspect import conf as inspect_conf
from awgcheck.inspect import ssh as inspect_ssh


@click.group()
def inspect() -> None:
    """Show what awgcheck reads from one artifact, or how it reaches a node."""


@inspect.command("conf")
@click.argument("path", type=click.Path(path_type=Path))
@format_option(inspect_conf.FORMATS)
@screen_options
@user_errors
def conf(path: Path, fmt: str, screen: Screen) -> None:
    """Parse PATH as awg-quick would and show every key, raw and effective.

    `loads` tells whether `awg-quick up` would accept the file. Secrets are
    shown as sha256 digests. Exit code 1 when the file would not load (a
    file that is not a conf at all included).
    """
    # Any bytes have an answer to "would awg-quick load this?": a binary is
    # read line by line and rejected, as the tool rejects it.
    parsed = read_conf(path, any_bytes=True)
    emit(inspect_conf.FORMATS.render(fmt, parsed, screen.layout()), None)
    sys.exit(exitcodes.OK if parsed.loads else exitcodes.FAILED)


@inspect.command("compose")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--env-file", "env_files", multiple=True, metavar="FILE",
              help="Use these env files instead of the project's .env (like "
                   "`docker compose --env-file`); repeatable.")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Enable a compose profile; repeatable (default: COMPOSE_PROFILES "
                   "from the project's .env or --compose-env; this shell's "
                   "COMPOSE_PROFILES is not read).")
@compose_env_option
@format_option(inspect_compose.FORMATS)
@screen_options
@user_errors
def compose(paths: Sequence[Path], env_files: Sequence[str], profiles: Sequence[str],
            compose_env: tuple[tuple[str, str], ...], fmt: str, screen: Screen) -> None:
    """Resolve a compose project as `docker compose config` would and show it.

    PATH is a compose file (more than one: override files, in order) or a
    project folder (its compose.yaml and override file). Shows each service,
    whether its profile is active, every environment variable with its raw
    text, resolved value, origin and file:line, command, healthcheck,
    ports, and the diagnostics. Interpolation uses the project's .env (or
    --env-file) and --compose-env, never this shell's environment. Values
    of secret-looking variables are shown as sha256 digests. Exit code 1
    when docker compose would refuse the project.
    """
    project = inspect_compose.load(paths, env_files, profiles, compose_env)
    emit(inspect_compose.FORMATS.render(fmt, project, screen.layout()), None)
    sys.exit(exitcodes.FAILED if project.failed else exitcodes.OK)


@inspect.command("ssh")
@click.argument("node_name", metavar="NODE")
@click.option("--inventory", "-i", "inventory_path", required=True,
              type=click.Path(path_type=Path), help="Fleet inventory (YAML) naming NODE.")
@ssh_config_option
@format_option(inspect_ssh.FORMATS)
@screen_options
@user_errors
def ssh(node_name: str, inventory_path: Path, ssh_config: str | None, fmt: str,
        screen: Screen) -> None:
    """Show how awgcheck will reach NODE over SSH, without connecting.

    For the node and each bastion of its jump chain (each resolved through
    ssh_config as ssh resolves it): host, port, user, identity files and
    known_hosts files (and whether each exists), the name the host key is
    filed under, ProxyJump / ProxyCommand, and where each value came from:
    the inventory, an ssh_config file:line, or the default.
    """
    node = inventory.load(inventory_path).node(node_name)
    view = inspect_ssh.inspect(node, ssh_config)
    emit(inspect_ssh.FORMATS.render(fmt, view, screen.layout()), None)
