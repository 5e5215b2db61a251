"""What the compose reader returns: services, variables, diagnostics codes.

These frozen types are the compose document the rules see. Every value
keeps the text as written (``raw``), what Compose makes of it (``value``)
and its ``file:line``; :meth:`ComposeProject.to_json` is the view behind
``awgcheck inspect compose --format json``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from awgcheck.model import Diagnostic, Level, Location
from awgcheck.secrecy import is_secret_name

# Diagnostic codes (the dotenv and tree modules add their own; see
# docs/compose.md for the full table).
FILE_MISSING = "file-missing"
ENCODING = "file-encoding"
ENV_FILE_MISSING = "env-file-missing"
SCHEMA = "compose-schema"
EXTENDS = "extends-unresolved"
INCLUDE = "include-conflict"
TYPED_VALUE = "yaml-typed-value"
TIMESTAMP = "yaml-timestamp"
DEPENDS_ON = "depends-on-unavailable"
SHADOWED = "env-file-value-unset"
YAML11_VALUE = "yaml11-value"
CONTAINER_VARIABLE = "container-variable-interpolated"
EMPTY_HOST_IP = "port-host-ip-empty"

ENVIRONMENT = "environment"
ENV_FILE = "env_file"


# --- public result types ---------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A scalar setting: ``raw`` as written, ``value`` as Compose uses it."""

    raw: str
    value: str | None
    location: Location


@dataclass(frozen=True)
class Port:
    """One published port as Compose expands it (a range gives several).

    ``host_ip`` is None when the port is published on every interface,
    which is what an empty ``${MESH_IP}`` in ``"${MESH_IP}:9100:9100"``
    silently turns into; ``published`` is None when Docker picks the port.
    """

    raw: str
    host_ip: str | None
    published: str | None
    target: str
    protocol: str
    location: Location


@dataclass(frozen=True)
class EnvVar:
    """One variable of a service's resolved environment.

    ``value`` is None when Compose would leave it unset. ``origin`` is
    ``environment`` or ``env_file``; ``source`` the file it comes from.
    ``variables`` are the project variables a compose-file value was
    interpolated from (``BIND: ${MESH_IP}:9586`` -> ``("MESH_IP",)``), so
    a rule can tell a derived value from a hard-coded one.
    """

    name: str
    raw: str
    value: str | None
    location: Location
    origin: str
    source: str
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """``command:`` as written and as the words Compose passes on.

    ``shell`` is True for the string form, which Compose splits itself.
    """

    raw: str
    words: tuple[str, ...]
    location: Location
    shell: bool


@dataclass(frozen=True)
class Healthcheck:
    """A healthcheck ``test`` as written and as Compose resolves it
    (the string form becomes ``("CMD-SHELL", text)``)."""

    raw: str
    test: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Service:
    """One service of the project after merges, extends and interpolation."""

    name: str
    active: bool
    profiles: tuple[str, ...]
    environment: Mapping[str, EnvVar]
    location: Location
    command: Command | None = None
    healthcheck: Healthcheck | None = None
    network_mode: Value | None = None
    ports: tuple[Port, ...] = ()


@dataclass(frozen=True)
class ComposeProject:
    """A whole project as Compose v2 would run it, plus what was noticed."""

    project_dir: str
    files: tuple[str, ...]
    env_files: tuple[str, ...]
    services: Mapping[str, Service]
    diagnostics: tuple[Diagnostic, ...]
    active_profiles: tuple[str, ...]
    variables: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def failed(self) -> bool:
        """True when ``docker compose`` itself would refuse this project."""
        return any(d.level is Level.ERROR for d in self.diagnostics)

    def to_json(self, redact: Callable[[str], bool] | None = None) -> dict[str, object]:
        """A JSON-ready view (``awgcheck inspect compose --format json``).

        Values of variables whose name ``redact`` accepts (by default names
        that look like keys, passwords or tokens) appear as digests.
        """
        hide = redact or is_secret_name
        return {
            "project_dir": self.project_dir,
            "files": list(self.files),
            "env_files": list(self.env_files),
            "active_profiles": list(self.active_profiles),
            "services": {n: _service_json(s, hide) for n, s in self.services.items()},
            "diagnostics": [_diagnostic_json(d) for d in self.diagnostics],
        }


def _digest(text: str | None) -> str | None:
    if text is None:
        return None
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _location_json(location: Location) -> dict[str, object]:
    return {"path": location.path, "line": location.line}


def _value_json(value: Value) -> dict[str, object]:
    return {"raw": value.raw, "value": value.value, **_location_json(value.location)}


def _port_json(port: Port) -> dict[str, object]:
    return {
        "raw": port.raw,
        "host_ip": port.host_ip,
        "published": port.published,
        "target": port.target,
        "protocol": port.protocol,
        **_location_json(port.location),
    }


def _service_json(service: Service, hide: Callable[[str], bool]) -> dict[str, object]:
    environment: dict[str, object] = {}
    for name, var in service.environment.items():
        secret = hide(name)
        environment[name] = {
            "raw": _digest(var.raw) if secret else var.raw,
            "value": _digest(var.value) if secret else var.value,
            "origin": var.origin,
            "source": var.source,
            "variables": list(var.variables),
            **_location_json(var.location),
        }
    out: dict[str, object] = {
        "active": service.active,
        "profiles": list(service.profiles),
        "environment": environment,
        "ports": [_port_json(p) for p in service.ports],
        **_location_json(service.location),
    }
    if service.command is not None:
        out["command"] = {
            "raw": service.command.raw,
            "words": list(service.command.words),
            **_location_json(service.command.location),
        }
    if service.healthcheck is not None:
        out["healthcheck"] = {
            "raw": service.healthcheck.raw,
            "test": list(service.healthcheck.test),
            **_location_json(service.healthcheck.location),
        }
    if service.network_mode is not None:
        out["network_mode"] = _value_json(service.network_mode)
    return out


def _diagnostic_json(diagnostic: Diagnostic) -> dict[str, object]:
    return {
        "code": diagnostic.code,
        "level": diagnostic.level.value,
        "message": diagnostic.message,
        **_location_json(diagnostic.location),
    }
