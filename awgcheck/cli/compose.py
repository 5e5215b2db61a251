"""Compose on the command line: ``--compose-env`` / ``--compose-mode`` for
commands that read nodes, and ``awgcheck inspect compose``.

This module does not import :mod:`awgcheck.cli` (which attaches it), so
``check`` can use :func:`compose_options` as a decorator.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click
from tabulate import tabulate

from awgcheck import exitcodes, params
from awgcheck.collect.compose import local_reader
from awgcheck.documents.compose import MODES, conceal, conceal_json, is_secret_name, is_secret_value
from awgcheck.parse.compose.project import ComposeProject, Service, load_project

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def _env_option(func: F) -> F:
    return click.option(
        "--compose-env", "compose_env", multiple=True, metavar="KEY=VALUE",
        callback=parse_env,
        help="A variable for compose interpolation, as if exported in the shell that "
             "starts the stack (wins over .env); repeatable.")(func)


def compose_options(func: F) -> F:
    """``--compose-env`` and ``--compose-mode``, folded into the command's
    ``run_options`` (place it below ``ssh_options``, which builds them)."""

    @_env_option
    @click.option("--compose-mode", type=click.Choice(MODES), default="file",
                  show_default=True,
                  help="file: resolve the nodes' compose files with awgcheck's reader (no "
                       "Docker needed); node: run `docker compose config` on each SSH node.")
    @functools.wraps(func)
    def wrapper(*args: Any, compose_env: tuple[tuple[str, str], ...], compose_mode: str,
                run_options: Any, **kwargs: Any) -> Any:
        options = replace(run_options, compose_mode=compose_mode, compose_env=compose_env)
        return func(*args, run_options=options, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- inspect compose ---------------------------------------------------------------

@click.command("compose")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--env-file", "env_files", multiple=True, metavar="FILE",
              help="Use these env files instead of the project's .env (like "
                   "`docker compose --env-file`); repeatable.")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Enable a compose profile; repeatable (default: COMPOSE_PROFILES).")
@_env_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def inspect_compose(paths: Sequence[Path], env_files: Sequence[str], profiles: Sequence[str],
                    compose_env: tuple[tuple[str, str], ...], fmt: str) -> None:
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
    first = paths[0].resolve()
    folder = first.is_dir()
    project_dir = str(first if folder else first.parent)
    files = [] if folder else [str(p.resolve()) for p in paths]
    try:
        project = load_project(
            local_reader(), files, project_dir=project_dir,
            env_files=[str(Path(f).resolve()) for f in env_files] or None,
            extra_env=dict(compose_env), profiles=profiles)
    except OSError as exc:
        click.echo(f"awgcheck: error: {exc.filename}: {exc.strerror}", err=True)
        sys.exit(exitcodes.USAGE)
    if fmt == "json":
        # A key-shaped value under an innocent name is digested too.
        view = conceal_json(project.to_json(redact=is_secret_name))
        click.echo(json.dumps(view, indent=2, ensure_ascii=False))
    else:
        click.echo(render_table(project), nl=False)
    sys.exit(exitcodes.FAILED if project.failed else exitcodes.OK)


def _shown(name: str, text: str | None) -> str:
    if text is None:
        return "(unset)"
    return conceal(text, is_secret_name(name) or is_secret_value(text)) or ""


def _where(location: Any) -> str:
    return str(location)


def _text(words: Sequence[str]) -> str:
    return " ".join(conceal(w, False) or "" for w in words)


def _service_block(service: Service) -> list[str]:
    state = "active" if service.active else "INACTIVE (profile not enabled)"
    profiles = f", profiles: {', '.join(service.profiles)}" if service.profiles else ""
    network = (f", network_mode: {service.network_mode.value}"
               if service.network_mode is not None else "")
    out = [f"\n== {service.name}: {state}{profiles}{network} ({service.location}) =="]
    rows = [[name, _shown(name, var.raw), _shown(name, var.value), var.origin,
             _where(var.location)] for name, var in service.environment.items()]
    if rows:
        out.append(tabulate(rows, headers=["variable", "raw", "value", "origin", "where"],
                            tablefmt="simple", maxcolwidths=[None, 40, 40, None, None]))
    if service.command is not None:
        out.append(f"command:     {_text(service.command.words)}  "
                   f"({service.command.location})")
    if service.healthcheck is not None:
        out.append(f"healthcheck: {_text(service.healthcheck.test)}  "
                   f"({service.healthcheck.location})")
    for port in service.ports:
        host = port.host_ip if port.host_ip is not None else "every interface"
        out.append(f"port:        {port.published or '(any)'}->{port.target}/{port.protocol} "
                   f"on {host}  ({port.location})")
    return out


def render_table(project: ComposeProject) -> str:
    """The human view of a resolved project."""
    verdict = "docker compose would REFUSE it" if project.failed else "resolves"
    out = [f"{', '.join(project.files) or project.project_dir}: {verdict}",
           f"project dir: {project.project_dir}; env files: "
           f"{', '.join(project.env_files) or 'none'}; active profiles: "
           f"{', '.join(project.active_profiles) or 'none'}"]
    for service in project.services.values():
        out.extend(_service_block(service))
    if project.diagnostics:
        out.append("")
        for d in project.diagnostics:
            out.append(f"{d.level.value}: {d.location}: {params.scrub(d.message)} ({d.code})")
    return "\n".join(out) + "\n"
