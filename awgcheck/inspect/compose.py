"""``awgcheck inspect compose``: a compose project as awgcheck resolves it.

The table shows each service, whether its profile is active, every
environment variable with its raw text, resolved value, origin and
file:line, command, healthcheck, ports, and the diagnostics. Values of
secret-looking variables are shown as sha256 digests, in every format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from awgcheck import params
from awgcheck.collect.compose import local_reader
from awgcheck.documents.compose import conceal, conceal_json, is_secret_name, is_secret_value
from awgcheck.errors import CollectError, UsageError
from awgcheck.parse.compose.project import ComposeProject, Service, load_project
from awgcheck.report.grid import Column, Kind, grid
from awgcheck.report.layout import PLAIN, Layout, wrap_all
from awgcheck.report.registry import Formats, ForPeople


def load(paths: Sequence[Path], env_files: Sequence[str], profiles: Sequence[str],
         env: Sequence[tuple[str, str]]) -> ComposeProject:
    """Resolve the project named on the command line: compose files (more
    than one: override files, in order) or a project folder. Only the
    project's .env (or ``env_files``) and ``env`` are interpolated, never
    this shell's environment."""
    first = paths[0].resolve()
    folder = first.is_dir()
    project_dir = str(first if folder else first.parent)
    files = [] if folder else [str(p.resolve()) for p in paths]
    try:
        return load_project(
            local_reader(), files, project_dir=project_dir,
            env_files=[str(Path(f).resolve()) for f in env_files] or None,
            extra_env=dict(env), profiles=profiles)
    except CollectError as exc:
        raise UsageError(str(exc)) from None


def as_dict(project: ComposeProject) -> object:
    """The JSON view; a key-shaped value under an innocent name is digested too."""
    return conceal_json(project.to_json(redact=is_secret_name))


def _shown(name: str, text: str | None) -> str:
    if text is None:
        return "(unset)"
    return conceal(text, is_secret_name(name) or is_secret_value(text)) or ""


def _where(location: Any) -> str:
    return str(location)


def _text(words: Sequence[str]) -> str:
    return " ".join(conceal(w, False) or "" for w in words)


_TABLE = (Column("variable", Kind.NAME), Column("raw", Kind.VALUE), Column("value", Kind.VALUE),
          Column("origin", Kind.VALUE), Column("where", Kind.PATH))


def _service_block(service: Service, view: Layout) -> list[str]:
    state = "active" if service.active else "INACTIVE (profile not enabled)"
    profiles = f", profiles: {', '.join(service.profiles)}" if service.profiles else ""
    network = (f", network_mode: {service.network_mode.value}"
               if service.network_mode is not None else "")
    out = [f"\n== {service.name}: {state}{profiles}{network} ({service.location}) =="]
    rows = [[name, _shown(name, var.raw), _shown(name, var.value), var.origin,
             _where(var.location)] for name, var in service.environment.items()]
    if rows:
        out.append(grid(rows, _TABLE, view))
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


def render_table(project: ComposeProject, view: Layout = PLAIN) -> str:
    """The human view of a resolved project, drawn to ``view``'s width."""
    verdict = "docker compose would REFUSE it" if project.failed else "resolves"
    out = [f"{', '.join(project.files) or project.project_dir}: {verdict}",
           f"project dir: {project.project_dir}; env files: "
           f"{', '.join(project.env_files) or 'none'}; active profiles: "
           f"{', '.join(project.active_profiles) or 'none'}"]
    for service in project.services.values():
        out.extend(_service_block(service, view))
    if project.diagnostics:
        out.append("")
        for d in project.diagnostics:
            out.append(f"{d.level.value}: {d.location}: {params.scrub(d.message)} ({d.code})")
    return "\n".join(wrap_all("\n".join(out).split("\n"), view.width)) + "\n"


def render_json(project: ComposeProject) -> str:
    return json.dumps(as_dict(project), indent=2, ensure_ascii=False) + "\n"


FORMATS: Formats[ComposeProject] = Formats({"table": ForPeople(render_table), "json": render_json})
