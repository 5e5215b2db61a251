"""A compose project from ``docker compose config --format json`` (what
``--compose-mode node`` runs on the node; :mod:`awgcheck.collect.compose`
runs it, this reads what it printed).

Values come from Compose; text as written, origin and ``file:line`` are
borrowed from the file reader's own view of the same project.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from awgcheck.model import Location
from awgcheck.parse.compose.project import (
    Command,
    ComposeProject,
    EnvVar,
    Healthcheck,
    Port,
    Service,
    Value,
)


def parse(data: bytes, local: ComposeProject) -> ComposeProject:
    """The project ``config --format json`` printed as ``data``; raises
    ValueError, TypeError, KeyError or AttributeError when it is not a
    compose JSON document."""
    return parse_config(json.loads(data), local)


def unescape(value: Any) -> Any:
    """Undo ``config --format json``'s re-escaping of ``$`` as ``$$``: the
    container gets one ``$``."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {unescape(k): unescape(v) for k, v in value.items()}
    return value


def parse_config(document: Any, local: ComposeProject) -> ComposeProject:
    """A project from ``docker compose config --format json`` output.

    Values come from Compose; text as written, origin and ``file:line``
    are borrowed from ``local`` (the file reader's view) where it knows
    the same service and variable, else the first compose file.
    """
    services = unescape(document["services"] or {})
    fallback = Location(local.files[0] if local.files else local.project_dir)
    built = {name: _service(name, spec, local.services.get(name), fallback)
             for name, spec in services.items()}
    return replace(local, services=built, diagnostics=(),
                   active_profiles=local.active_profiles)


def _service(name: str, spec: Mapping[str, Any], known: Service | None,
             fallback: Location) -> Service:
    environment: dict[str, EnvVar] = {}
    for key, value in (spec.get("environment") or {}).items():
        mine = known.environment.get(key) if known is not None else None
        environment[key] = EnvVar(
            key, mine.raw if mine is not None else (value or ""),
            None if value is None else str(value),
            mine.location if mine is not None else fallback,
            mine.origin if mine is not None else "environment",
            mine.source if mine is not None else fallback.path,
            mine.variables if mine is not None else ())
    location = known.location if known is not None else fallback
    return Service(
        name=name, active=True, profiles=tuple(spec.get("profiles") or ()),
        environment=environment, location=location,
        command=_command(spec.get("command"), known, location),
        healthcheck=_healthcheck(spec.get("healthcheck"), known, location),
        network_mode=_network_mode(spec.get("network_mode"), known, location),
        ports=tuple(_ports(spec.get("ports") or [], known, location)),
    )


def _command(words: Any, known: Service | None, location: Location) -> Command | None:
    if not isinstance(words, list):
        return None
    mine = known.command if known is not None else None
    return Command(mine.raw if mine else " ".join(map(str, words)),
                   tuple(str(w) for w in words), mine.location if mine else location,
                   mine.shell if mine else False)


def _healthcheck(spec: Any, known: Service | None, location: Location) -> Healthcheck | None:
    test = spec.get("test") if isinstance(spec, dict) else None
    if not isinstance(test, list):
        return None
    mine = known.healthcheck if known is not None else None
    return Healthcheck(mine.raw if mine else " ".join(map(str, test)),
                       tuple(str(w) for w in test), mine.location if mine else location)


def _network_mode(value: Any, known: Service | None, location: Location) -> Value | None:
    if not isinstance(value, str):
        return None
    mine = known.network_mode if known is not None else None
    return Value(mine.raw if mine else value, value, mine.location if mine else location)


def _ports(ports: Sequence[Any], known: Service | None, location: Location) -> list[Port]:
    out = []
    for port in ports:
        if not isinstance(port, dict):
            continue
        published = port.get("published")
        # Borrow the line of the file's port with the same target and
        # published port, when the reader has it.
        mine = next((p for p in (known.ports if known else ())
                     if p.target == str(port.get("target"))
                     and p.published == (str(published) if published else None)), None)
        out.append(Port(
            mine.raw if mine else f"{port.get('host_ip') or ''}:{published or ''}:"
                                  f"{port.get('target')}",
            port.get("host_ip") or None, str(published) if published else None,
            str(port.get("target")), str(port.get("protocol") or "tcp"),
            mine.location if mine else location))
    return out
