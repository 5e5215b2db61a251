"""What a compose rule selects: services, and values inside them.

A compose rule's ``select`` names services (``services``) and, inside each,
values to judge: environment variables (``env`` names or globs, and the
env variables that carry AWG params, chosen with ``params``), the value of
a command-line ``flag``, the ``healthcheck`` or ``command`` text, and
published ``ports``. :func:`items` turns that into a flat list of
:class:`Item` values, each with its service, text as written, resolved
value and ``file:line``, which the compose check types then judge.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from awgcheck import params
from awgcheck.documents.compose import is_secret_name, is_secret_value
from awgcheck.errors import RuleError
from awgcheck.model import Location
from awgcheck.parse.compose.project import ComposeProject, Service

ENV = "env"
FLAG = "flag"
HEALTHCHECK = "healthcheck"
COMMAND = "command"
PORT = "port"

PORTS_ALL = "all"
PORTS_WITH_LISTENER = "with-listener"

KEYS = ("services", "env", "flag", "healthcheck", "command", "ports", "inactive")
"""Selector keys only compose rules may use (validated in ruleset)."""

# amnezia-wg-easy reads these bare names (JC, JMIN, ..., H4); other images
# prefix every param (AWG_JC .. AWG_I5, WIREGUARD_JC ..).
_BARE_PARAMS = ("Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4", "H1", "H2", "H3", "H4")
ENV_PREFIXES = ("AWG_", "WIREGUARD_")


def env_param(name: str) -> str | None:
    """The AWG param an environment variable carries, or None.

    Names are case-sensitive, as in the container: ``AWG_S4`` and ``S4``
    carry S4, ``awg_s4`` carries nothing.
    """
    for prefix in ENV_PREFIXES:
        if name.startswith(prefix):
            spec = params.spec(name[len(prefix):])
            if spec is not None and spec.obfuscation and name == prefix + spec.name.upper():
                return spec.name
            return None
    for param in _BARE_PARAMS:
        if name == param.upper():
            return param
    return None


def env_names(param: str) -> tuple[str, ...]:
    """Every variable name that carries ``param`` (for messages and docs)."""
    upper = params.canonical(param).upper()
    names = [prefix + upper for prefix in ENV_PREFIXES]
    if params.canonical(param) in _BARE_PARAMS:
        names.insert(0, upper)
    return tuple(names)


@dataclass(frozen=True)
class ComposeSelection:
    """The compose part of a rule's ``select``."""

    services: tuple[str, ...] = ("*",)
    env: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    all_params: bool = False
    flags: tuple[str, ...] = ()
    healthcheck: bool = False
    command: bool = False
    ports: str | None = None
    inactive: bool = False

    @property
    def carries_params(self) -> bool:
        return self.all_params or bool(self.params)

    def describe(self) -> str:
        """One line for ``rules show``."""
        parts = [f"services {', '.join(self.services)}"]
        if self.carries_params:
            parts.append("AWG params " + ("(all)" if self.all_params else ", ".join(self.params)))
        if self.env:
            parts.append(f"env {', '.join(self.env)}")
        if self.flags:
            parts.append(f"flag {', '.join(self.flags)}")
        parts += [k for k in (HEALTHCHECK, COMMAND) if getattr(self, k)]
        if self.ports:
            parts.append(f"ports ({self.ports})")
        return "; ".join(parts)


def _words(where: str, key: str, value: object) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(
        isinstance(i, str) and i for i in items
    ):
        raise RuleError(f"{where}: key '{key}' must be a non-empty string or a list of them")
    return tuple(items)


def parse_selection(where: str, data: Mapping[str, Any], names: tuple[str, ...],
                    all_params: bool) -> ComposeSelection:
    """Validate the compose keys of ``select`` (types were checked already).

    ``names``/``all_params`` are the expanded ``params`` key: with compose
    it selects the environment variables that carry those params.
    """
    flags = _words(where, "flag", data["flag"]) if "flag" in data else ()
    for flag in flags:
        if not flag.startswith("-") or "=" in flag or " " in flag:
            raise RuleError(f"{where}: key 'flag' must name flags like '--web.listen-address' "
                            f"(no value, no blank), got {flag!r}")
    ports = data.get("ports")
    if ports is not None and ports not in (PORTS_ALL, PORTS_WITH_LISTENER):
        raise RuleError(f"{where}: key 'ports' must be {PORTS_ALL} or {PORTS_WITH_LISTENER}, "
                        f"got {ports!r}")
    return ComposeSelection(
        services=_words(where, "services", data["services"]) if "services" in data else ("*",),
        env=_words(where, "env", data["env"]) if "env" in data else (),
        params=names, all_params=all_params, flags=flags,
        healthcheck=bool(data.get("healthcheck", False)),
        command=bool(data.get("command", False)), ports=ports,
        inactive=bool(data.get("inactive", False)),
    )


@dataclass(frozen=True)
class Item:
    """One selected value of one service.

    ``raw`` is the text as written (None when nothing was written: a bare
    key, a port published without host IP); ``value`` what the container
    gets (None: unset). ``param`` is the AWG param an env variable carries.
    ``secret`` values never appear in reports in clear.
    """

    service: str
    kind: str
    name: str
    raw: str | None
    value: str | None
    location: Location
    param: str | None = None
    origin: str | None = None
    secret: bool = False
    variables: tuple[str, ...] = ()  # project variables the value came from

    @property
    def label(self) -> str:
        """``relay RELAY_BIND``: how findings name the value."""
        return f"{self.service} {self.name}"


def services(project: ComposeProject, selection: ComposeSelection) -> list[Service]:
    """Selected services in file order; inactive ones only when asked for
    (Compose does not run them)."""
    return [
        s for s in project.services.values()
        if (s.active or selection.inactive) and _matches(s.name, selection.services)
    ]


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def items(project: ComposeProject, selection: ComposeSelection) -> list[Item]:
    """Every selected value of every selected service."""
    found: list[Item] = []
    for service in services(project, selection):
        found.extend(service_items(service, selection))
    return found


def service_items(service: Service, selection: ComposeSelection) -> list[Item]:
    """The selected values of one service, in a stable order: env, flags,
    healthcheck, command, ports."""
    out = list(_env_items(service, selection))
    out += _flag_items(service, selection.flags)
    if selection.healthcheck and service.healthcheck is not None:
        check = service.healthcheck
        out.append(Item(service.name, HEALTHCHECK, HEALTHCHECK, check.raw,
                        _test_text(check.test), check.location))
    if selection.command and service.command is not None:
        command = service.command
        out.append(Item(service.name, COMMAND, COMMAND, command.raw, " ".join(command.words),
                        command.location))
    if selection.ports == PORTS_ALL or (selection.ports == PORTS_WITH_LISTENER and out):
        for port in service.ports:
            name = f"port {port.published or '(any)'}:{port.target}/{port.protocol}"
            # No host IP means every interface: judged as "".
            out.append(Item(service.name, PORT, name, port.raw, port.host_ip or "",
                            port.location))
    return out


def _env_items(service: Service, selection: ComposeSelection) -> Iterator[Item]:
    for name, var in service.environment.items():
        param = env_param(name)
        carried = param is not None and (selection.all_params or param in selection.params)
        if not carried and not _matches(name, selection.env):
            continue
        spec = params.spec(param) if param else None
        secret = (is_secret_name(name) or (spec is not None and spec.secret)
                  or is_secret_value(var.value))
        yield Item(service.name, ENV, name, var.raw, var.value, var.location,
                   param, var.origin, secret, var.variables)


def _test_text(test: tuple[str, ...]) -> str:
    """A healthcheck test as the text that runs: ``CMD-SHELL x`` -> ``x``."""
    if test and test[0] == "CMD-SHELL":
        return " ".join(test[1:])
    if test and test[0] in ("CMD", "NONE"):
        return " ".join(test[1:])
    return " ".join(test)


def _flag_items(service: Service, flags: Sequence[str]) -> Iterator[Item]:
    command = service.command
    if command is None:
        return
    words = command.words
    for flag in flags:
        for index, word in enumerate(words):
            if word == flag and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith(flag + "="):
                value = word[len(flag) + 1:]
            else:
                continue
            raw = _raw_flag(command.raw, flag)
            yield Item(service.name, FLAG, flag, raw, value, command.location,
                       secret=is_secret_name(flag) or is_secret_value(value))


def _raw_flag(text: str, flag: str) -> str | None:
    """The flag's value as written in the compose file, if it can be found."""
    match = re.search(re.escape(flag) + r"""(?:=|\s+)("[^"]*"|'[^']*'|[^\s,\]"']+)""", text)
    return match.group(1).strip("\"'") if match else None


def host_part(value: str) -> str:
    """The host of ``host:port``, ``[v6]:port`` or a bare address.

    ``:9586`` gives ``""`` (every interface), a bare IPv6 address stays
    whole, a URL scheme is dropped.
    """
    text = value.strip()
    if "://" in text:
        text = text.split("://", 1)[1].split("/", 1)[0]
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end >= 0 else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text
