"""Turn one merged service node into a :class:`Service`.

This is where Compose's environment rules live (``env_file`` under
``environment``, bare keys from the project environment, env-file lookups)
and where the value traps are reported: YAML typing, timestamps, bare keys
that unset an env_file value, ``$VAR`` meant for the container.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Protocol

from awgcheck import limits
from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose.dotenv import parse_dotenv, parse_raw_env
from awgcheck.parse.compose.goyaml import Kind, yaml11_reading
from awgcheck.parse.compose.model import (
    CONTAINER_VARIABLE,
    DEPENDS_ON,
    EMPTY_HOST_IP,
    ENV_FILE,
    ENV_FILE_MISSING,
    ENVIRONMENT,
    SCHEMA,
    SHADOWED,
    TIMESTAMP,
    TYPED_VALUE,
    YAML11_VALUE,
    Command,
    EnvVar,
    Healthcheck,
    Port,
    Service,
    Value,
)
from awgcheck.parse.compose.tree import (
    YMap,
    YNode,
    YScalar,
    YSeq,
    field_of,
    first,
    items_of,
    named_entries,
    scalars,
    strings,
)
from awgcheck.secrecy import is_secret_name, is_secret_value, scrub


class Sink(Protocol):
    """What building a service needs from the loader: files and a report."""

    def report(self, diagnostic: Diagnostic) -> None: ...

    def text(
        self, path: str, *, required: bool, code: str = ..., level: Level = ...
    ) -> str | None: ...


def build_service(
    loader: Sink, name: str, svc: YMap, env: Mapping[str, str], active: Sequence[str]
) -> Service:
    """The service ``svc`` (merged, extends resolved) as Compose would run it,
    given the project environment ``env`` and the ``active`` profiles."""
    profiles = tuple(strings(svc.get("profiles")))
    is_active = not profiles or "*" in active or any(p in active for p in profiles)
    environment = _environment(loader, name, svc, env, is_active)
    _check_string_lists(loader, name, svc)
    return Service(
        name=name,
        active=is_active,
        profiles=profiles,
        environment=environment,
        location=svc.location,
        command=_command(svc.get("command")),
        healthcheck=_healthcheck(svc.get("healthcheck")),
        network_mode=_value(svc.get("network_mode")),
        ports=_ports(loader, name, svc.get("ports")),
    )


def _environment(
    loader: Sink, name: str, svc: YMap, env: Mapping[str, str], active: bool
) -> dict[str, EnvVar]:
    declared = _declared_environment(loader, name, svc)
    from_files = _env_file_vars(loader, svc, declared, env, active)
    result = dict(from_files)
    for key, scalar in declared.items():
        value = scalar.value
        if value is None and not scalar.failed:
            # A bare key takes its value from the project environment.
            value = env.get(key)
            if value is None and key in from_files:
                _report_shadowed(loader, name, key, scalar, from_files[key])
        result[key] = EnvVar(
            key,
            scalar.raw,
            value,
            scalar.location,
            ENVIRONMENT,
            scalar.location.path,
            scalar.variables or ((key,) if scalar.kind is Kind.NULL else ()),
        )
    _check_container_variables(loader, svc, result)
    return result


def _report_shadowed(
    loader: Sink, service: str, key: str, scalar: YScalar, shadowed: EnvVar
) -> None:
    loader.report(
        Diagnostic(
            scalar.location,
            SHADOWED,
            f"{service}: {key} is set in {shadowed.location} but listed here without"
            " a value, so Compose leaves it unset in the container",
            Level.WARNING,
        )
    )


def _declared_environment(loader: Sink, name: str, svc: YMap) -> dict[str, YScalar]:
    node = svc.get(ENVIRONMENT)
    if node is None:
        return {}
    if isinstance(node, YScalar):
        loader.report(
            Diagnostic(
                node.location, SCHEMA, f"{name}: environment is not a map or list", Level.ERROR
            )
        )
        return {}
    out: dict[str, YScalar] = {}
    for key, value in named_entries(node).items():
        if not isinstance(value, YScalar):
            loader.report(
                Diagnostic(value.location, SCHEMA, f"{name}: {key} is not a scalar", Level.ERROR)
            )
            continue
        _check_typed(loader, name, key, value)
        out[key] = value
    return out


def _check_string_lists(loader: Sink, name: str, svc: YMap) -> None:
    """Compose's schema wants strings in exec-form lists: 0123 there is fatal."""
    lists = {
        "command": svc.get("command"),
        "entrypoint": svc.get("entrypoint"),
        "healthcheck.test": field_of(svc.get("healthcheck"), "test"),
    }
    for key, node in lists.items():
        previous: str | None = None
        for item in items_of(node):
            after_secret_flag = previous is not None and previous.startswith("-") and \
                is_secret_name(previous)
            previous = item.raw if isinstance(item, YScalar) else None
            if isinstance(item, YScalar) and item.kind is not Kind.STR and after_secret_flag:
                loader.report(Diagnostic(
                    item.location, SCHEMA,
                    f"{name}: {key}: the unquoted value after a secret flag is a YAML"
                    f" {item.kind.value} (value withheld); Compose requires a string here",
                    Level.ERROR))
            elif isinstance(item, YScalar) and item.kind is not Kind.STR:
                loader.report(
                    Diagnostic(
                        item.location,
                        SCHEMA,
                        f"{name}: {key}: unquoted {_quoted(item.raw)} is a YAML"
                        f" {item.kind.value}; Compose requires a string here",
                        Level.ERROR,
                    )
                )


def _quoted(raw: str | None) -> str:
    """A command word as a message may quote it (scrubbed of secrets)."""
    return scrub(raw) if raw else "(empty)"


def _check_typed(loader: Sink, service: str, key: str, value: YScalar) -> None:
    """Report unquoted values whose YAML type changes what the container gets.

    A secret-named variable's value is never quoted: the message says what
    happens to "its value" instead.
    """
    if is_secret_name(key) or is_secret_value(value.raw):
        _check_typed_secret(loader, service, key, value)
        return
    if value.kind is Kind.TIMESTAMP:
        loader.report(
            Diagnostic(
                value.location,
                TIMESTAMP,
                f"{service}: {key}: unquoted {value.raw} is a YAML timestamp, which"
                " Compose refuses as an environment value; quote it",
                Level.ERROR,
            )
        )
        return
    if value.kind in (Kind.INT, Kind.FLOAT, Kind.BOOL):
        loader.report(
            Diagnostic(
                value.location,
                TYPED_VALUE,
                f"{service}: {key}: unquoted {value.raw} is a YAML {value.kind.value};"
                f" Compose passes {value.value!r}. Quote it to pass it as written",
                Level.WARNING,
            )
        )
        return
    reading = yaml11_reading(value.raw) if value.plain else None
    if reading is not None:
        loader.report(
            Diagnostic(
                value.location,
                YAML11_VALUE,
                f"{service}: {key}: unquoted {value.raw} is text to Compose but {reading}"
                " to YAML 1.1 readers (docker-compose v1, PyYAML); quote it",
                Level.WARNING,
            )
        )


def _check_typed_secret(loader: Sink, service: str, key: str, value: YScalar) -> None:
    if value.kind is Kind.TIMESTAMP:
        loader.report(Diagnostic(
            value.location, TIMESTAMP,
            f"{service}: {key}: its unquoted value is a YAML timestamp, which Compose "
            "refuses as an environment value; quote it", Level.ERROR))
    elif value.kind in (Kind.INT, Kind.FLOAT, Kind.BOOL):
        loader.report(Diagnostic(
            value.location, TYPED_VALUE,
            f"{service}: {key}: its unquoted value is a YAML {value.kind.value}, so Compose"
            " may pass other text than written (value withheld: secret). Quote it",
            Level.WARNING))
    elif value.plain and yaml11_reading(value.raw) is not None:
        loader.report(Diagnostic(
            value.location, YAML11_VALUE,
            f"{service}: {key}: its unquoted value is text to Compose but typed by YAML 1.1"
            " readers (docker-compose v1, PyYAML) (value withheld: secret); quote it",
            Level.WARNING))


def _env_file_vars(
    loader: Sink,
    svc: YMap,
    declared: Mapping[str, YScalar],
    env: Mapping[str, str],
    active: bool,
) -> dict[str, EnvVar]:
    out: dict[str, EnvVar] = {}
    for ref in items_of(svc.get(ENV_FILE)):
        path = first(field_of(ref, "path"))
        if path is None:
            continue
        required = first(field_of(ref, "required")) != "false"
        # Compose reads env files of active services only; for the others a
        # missing file is a warning about the day the profile gets enabled.
        level = Level.ERROR if active else Level.WARNING
        text = loader.text(path, required=required, code=ENV_FILE_MISSING, level=level)
        if text is None:
            continue

        def lookup(key: str) -> str | None:
            # Compose resolves env_file variables from the project
            # environment first, then from the service's own environment.
            if key in env:
                return env[key]
            scalar = declared.get(key)
            return scalar.value if scalar is not None else None

        def earlier(key: str) -> str | None:
            var = out.get(key)
            return var.value if var is not None else None

        if first(field_of(ref, "format")) == "raw":
            parsed = parse_raw_env(text, lookup, path=path)
        else:
            parsed = parse_dotenv(text, lookup, earlier, path=path)
        for diagnostic in parsed.diagnostics:
            loader.report(diagnostic)
        for entry in parsed.entries:
            if entry.value is None:
                continue
            out[entry.key] = EnvVar(
                entry.key, entry.raw, entry.value, Location(path, entry.line), ENV_FILE, path
            )
    return out


def check_runnable(loader: Sink, service: Service, node: YMap) -> None:
    """Compose refuses a project whose active service has nothing to run."""
    if service.active and node.get("image") is None and node.get("build") is None:
        loader.report(
            Diagnostic(
                service.location,
                SCHEMA,
                f"service {service.name} has neither an image nor a build context",
                Level.ERROR,
            )
        )


def check_dependencies(
    loader: Sink, service: Service, node: YMap, services: Mapping[str, Service]
) -> None:
    """An active service needing an inactive or undefined one stops Compose."""
    if not service.active:
        return
    for name, shown, required, location in _dependencies(node.get("depends_on")):
        target = services.get(name)
        if not required or (target is not None and target.active):
            continue
        why = "undefined" if target is None else "in an inactive profile"
        loader.report(
            Diagnostic(
                location,
                DEPENDS_ON,
                f"{service.name} depends on {shown}, which is {why}",
                Level.ERROR,
            )
        )


def _dependencies(node: YNode | None) -> list[tuple[str, str, bool, Location]]:
    """(service name, how to show it, required, where) for each entry. An
    interpolated name is shown as written (``${VAR}``): its value may be
    anything the ``.env`` holds, a secret included."""
    if isinstance(node, YSeq):
        return [
            (i.value, i.raw if i.variables else i.value, True, i.location)
            for i in node.items
            if isinstance(i, YScalar) and i.value is not None
        ]
    if isinstance(node, YMap):
        return [
            (
                name,
                name,
                first(field_of(spec, "required")) != "false",
                node.key_locations.get(name, node.location),
            )
            for name, spec in node.items.items()
        ]
    return []


def _check_container_variables(loader: Sink, svc: YMap, env: Mapping[str, EnvVar]) -> None:
    """The Compose trap docs/compose.md documents: ``$VAR`` in a command or
    healthcheck meant for the container's shell is interpolated by Compose
    from the project env."""
    for key in ("command", "entrypoint", "healthcheck"):
        for scalar in scalars(svc.get(key)):
            for name in scalar.unset:
                if name in env:
                    loader.report(
                        Diagnostic(
                            scalar.location,
                            CONTAINER_VARIABLE,
                            f"${name} in {key} is interpolated by Compose, not by the"
                            f" container shell, and is empty; write $${name}",
                            Level.WARNING,
                        )
                    )


def _value(node: YNode | None) -> Value | None:
    if not isinstance(node, YScalar):
        return None
    return Value(node.raw, node.value, node.location)


def _command(node: YNode | None) -> Command | None:
    if isinstance(node, YScalar):
        words = _split(node.value) if node.value is not None else ()
        return Command(node.raw, words, node.location, shell=True)
    if isinstance(node, YSeq):
        words = tuple(i.value or "" for i in node.items if isinstance(i, YScalar))
        raw = node.raw or "[" + ", ".join(i.raw for i in node.items if isinstance(i, YScalar)) + "]"
        return Command(raw, words, node.location, shell=False)
    return None


def _split(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        # Unbalanced quotes: Compose would refuse; keep the text whole.
        return (text,)


def _healthcheck(node: YNode | None) -> Healthcheck | None:
    test = field_of(node, "test")
    if isinstance(test, YScalar):
        return Healthcheck(test.raw, ("CMD-SHELL", test.value or ""), test.location)
    if isinstance(test, YSeq):
        command = _command(test)
        assert command is not None
        return Healthcheck(command.raw, command.words, test.location)
    return None


def _ports(loader: Sink, name: str, node: YNode | None) -> tuple[Port, ...]:
    out: list[Port] = []
    for item in items_of(node):
        if isinstance(item, YScalar) and item.value is not None:
            out.extend(_short_ports(item))
            _check_empty_host_ip(loader, name, item)
        elif isinstance(item, YMap):
            out.extend(_long_port(item))
    return tuple(out)


def _short_ports(item: YScalar) -> list[Port]:
    """``[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]``, ranges expanded."""
    assert item.value is not None
    spec, _, protocol = item.value.partition("/")
    host_ip, published, target = _split_port_spec(spec)
    targets = _port_range(target)
    hosts: list[str | None] = list(_port_range(published)) if published else [None]
    if len(hosts) != len(targets):
        # "8000-8001:80": Docker picks one host port of the range.
        hosts = [published or None] * len(targets)
    return [
        Port(item.raw, host_ip or None, host, container, protocol or "tcp", item.location)
        for host, container in zip(hosts, targets, strict=True)
    ]


def _split_port_spec(spec: str) -> tuple[str, str, str]:
    """(host_ip, published, target) of a short port spec, IPv6 in brackets."""
    if spec.startswith("[") and "]:" in spec:
        host_ip, _, rest = spec[1:].partition("]:")
        published, _, target = rest.rpartition(":")
        return host_ip, published, target
    parts = spec.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _port_range(text: str) -> list[str]:
    low, dash, high = text.partition("-")
    first = limits.int_or_none(low) if dash and limits.is_ascii_digits(low) else None
    last = limits.int_or_none(high) if first is not None and limits.is_ascii_digits(high) else None
    # Past the port space a range is not Compose's (it refuses it); expanding
    # it would cost memory without bound.
    if first is not None and last is not None and 0 <= last - first < limits.PORT_RANGE_MAX:
        return [str(n) for n in range(first, last + 1)]
    return [text]


def _long_port(item: YMap) -> list[Port]:
    values = {k: first(item.get(k)) for k in ("host_ip", "published", "target", "protocol")}
    raw = "{" + ", ".join(f"{k}: {v}" for k, v in values.items() if v) + "}"
    return [
        Port(
            raw,
            values["host_ip"] or None,
            values["published"] or None,
            values["target"] or "",
            values["protocol"] or "tcp",
            item.location,
        )
    ]


def _check_empty_host_ip(loader: Sink, name: str, item: YScalar) -> None:
    """``"${MESH_IP}:9100:9100"`` with an empty MESH_IP publishes on 0.0.0.0."""
    assert item.value is not None
    if item.variables and item.value.startswith(":") and item.value.count(":") >= 2:
        loader.report(
            Diagnostic(
                item.location,
                EMPTY_HOST_IP,
                f"{name}: port {item.raw} has an interpolated host IP that came out"
                f" empty ({item.value}), so Docker publishes it on every interface",
                Level.WARNING,
            )
        )
