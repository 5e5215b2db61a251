"""Read a docker compose project the way Compose v2 would run it.

awgcheck checks what the node will actually run, so this reader reproduces
``docker compose config`` for the parts a rule can look at: each service's
resolved environment (``environment`` over ``env_file``), command,
healthcheck test, network mode and ports, after ``.env`` loading,
interpolation, override files, ``extends``, ``include`` and profiles.

Three choices differ from running Compose on the node, on purpose:

* Interpolation sees only the project's ``.env`` (or the given env files)
  plus ``extra_env``; never the checker's own shell environment.
* Problems in the node's files are :class:`Diagnostic` records, never
  exceptions: a missing ``${VAR:?}`` is a finding with file and line.
* Services in inactive profiles are kept, with ``active=False``.

Files are read through a ``read(path) -> bytes | None`` callback (None:
missing), so the same reader serves local trees and SSH; paths are POSIX.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from awgcheck.model import Location
from awgcheck.parse.compose_tree import (
    YMap,
    YNode,
    YScalar,
    YSeq,
    build_tree,
    merge_service,
    named_entries,
    without_resets,
)
from awgcheck.parse.diagnostic import Diagnostic, Level
from awgcheck.parse.dotenv import KEYLESS, UNSET, Dotenv, parse_dotenv
from awgcheck.parse.goyaml import Kind, yaml11_reading

Reader = Callable[[str], bytes | None]
"""Returns a file's bytes, or None when the file does not exist."""

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)

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

ENVIRONMENT = "environment"
ENV_FILE = "env_file"

_SECRET_NAME = re.compile(r"private|preshared|secret|password|passwd|token|protectionkey", re.I)


# --- public result types ---------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A scalar setting: ``raw`` as written, ``value`` as Compose uses it."""

    raw: str
    value: str | None
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
    ports: tuple[Value, ...] = ()

    def resolved_environment(self) -> dict[str, str | None]:
        """Name -> value, None for unset: what ``docker compose config`` shows."""
        return {name: var.value for name, var in self.environment.items()}


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
        hide = redact or (lambda name: bool(_SECRET_NAME.search(name)))
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
        "ports": [_value_json(p) for p in service.ports],
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


# --- entry point -------------------------------------------------------------


def load_project(
    read: Reader,
    files: Sequence[str] = (),
    *,
    project_dir: str | None = None,
    env_files: Sequence[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    profiles: Sequence[str] = (),
) -> ComposeProject:
    """Load a compose project as ``docker compose [-f ...] config`` would.

    ``files`` are the ``-f`` files in order; when empty, the default file
    (``compose.yaml`` ...) and its override are looked up in
    ``project_dir``. Relative paths are taken from ``project_dir``, which
    defaults to the directory of the first file. ``env_files`` replace the
    project ``.env`` (``--env-file``); ``extra_env`` plays the shell
    environment (it wins over ``.env``); ``profiles`` are the
    ``--profile`` flags (else ``COMPOSE_PROFILES`` from the environment).
    """
    loader = _Loader(read, dict(extra_env or {}))
    return loader.load(files, project_dir, env_files, profiles)


# --- loading -------------------------------------------------------------------


@dataclass
class _Scope:
    """What interpolation and relative paths mean for one set of files."""

    project_dir: str
    env: dict[str, str]


class _Loader:
    def __init__(self, read: Reader, extra_env: dict[str, str]) -> None:
        self._reader = read
        self._cache: dict[str, bytes | None] = {}
        self.extra_env = extra_env
        self.diagnostics: list[Diagnostic] = []
        self.trees: dict[str, YMap | None] = {}

    def read(self, path: str) -> bytes | None:
        """Each file is read once: over SSH every read is a round trip."""
        if path not in self._cache:
            self._cache[path] = self._reader(path)
        return self._cache[path]

    def report(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def load(
        self,
        files: Sequence[str],
        project_dir: str | None,
        env_files: Sequence[str] | None,
        profiles: Sequence[str],
    ) -> ComposeProject:
        base = project_dir or (posixpath.dirname(files[0]) if files else ".")
        base = posixpath.normpath(base)
        used_env_files = self._env_file_paths(base, env_files)
        env = self._project_env(used_env_files, self.extra_env, required=env_files is not None)
        paths = [_join(base, f) for f in files or _files_from_env(env)]
        paths = paths or self._default_files(base)
        active = tuple(profiles) or _profiles_from_env(env)
        services = self._services(paths, _Scope(base, env))
        services = {name: without_resets(svc) for name, svc in services.items()}
        built = {
            name: _build_service(self, name, svc, env, active) for name, svc in services.items()
        }
        for service in built.values():
            _check_runnable(self, service, services[service.name])
            _check_dependencies(self, service, services[service.name], built)
        return ComposeProject(
            project_dir=base,
            files=tuple(paths),
            env_files=tuple(p for p in used_env_files if self.read(p) is not None),
            services=built,
            diagnostics=tuple(self.diagnostics),
            active_profiles=active,
            variables=env,
        )

    def _default_files(self, base: str) -> list[str]:
        main = self._first_existing(base, DEFAULT_FILES)
        if main is None:
            self.report(
                Diagnostic(
                    Location(base),
                    FILE_MISSING,
                    f"no compose file ({', '.join(DEFAULT_FILES)}) in {base}",
                    Level.ERROR,
                )
            )
            return []
        override = self._first_existing(base, OVERRIDE_FILES)
        return [main] if override is None else [main, override]

    def _first_existing(self, base: str, names: Sequence[str]) -> str | None:
        for name in names:
            path = _join(base, name)
            if self.read(path) is not None:
                return path
        return None

    @staticmethod
    def _env_file_paths(base: str, env_files: Sequence[str] | None) -> list[str]:
        if env_files is None:
            return [_join(base, ".env")]
        return [_join(base, f) for f in env_files]

    def _project_env(
        self, paths: Sequence[str], outer: Mapping[str, str], *, required: bool
    ) -> dict[str, str]:
        """The interpolation environment: env files, then ``outer`` on top."""
        values: dict[str, str] = {}
        for path in paths:
            text = self.text(path, required=required, code=ENV_FILE_MISSING)
            if text is None:
                continue

            parsed = parse_dotenv(text, outer.get, values.get)
            self.report_dotenv(path, parsed)
            values.update(parsed.values())
        return {**values, **outer}

    def report_dotenv(self, path: str, parsed: Dotenv) -> None:
        for problem in parsed.problems:
            level = Level.WARNING if problem.code in (UNSET, KEYLESS) else Level.ERROR
            self.report(
                Diagnostic(Location(path, problem.line), problem.code, problem.message, level)
            )

    def text(
        self, path: str, *, required: bool, code: str = FILE_MISSING, level: Level = Level.ERROR
    ) -> str | None:
        data = self.read(path)
        if data is None:
            if required:
                self.report(Diagnostic(Location(path), code, f"{path} does not exist", level))
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.report(
                Diagnostic(Location(path), ENCODING, f"not UTF-8 text ({exc.reason})", Level.ERROR)
            )
            return None

    # --- files, includes, extends --------------------------------------------

    def _tree(self, path: str, scope: _Scope) -> YMap | None:
        key = f"{path}\0{sorted(scope.env.items())}"
        if key not in self.trees:
            text = self.text(path, required=True)
            tree = None if text is None else build_tree(text, path, scope.env.get, self.report)
            if tree is not None and not isinstance(tree, YMap):
                self.report(
                    Diagnostic(Location(path, 1), SCHEMA, "top level is not a mapping", Level.ERROR)
                )
                tree = None
            self.trees[key] = tree
        return self.trees[key]

    def _services(self, paths: Sequence[str], scope: _Scope) -> dict[str, YMap]:
        """Services of ``paths`` merged in order, overrides last."""
        merged: dict[str, YMap] = {}
        for path in paths:
            tree = self._tree(path, scope)
            if tree is None:
                continue
            included = self._included(tree, path, scope)
            own = self._file_services(tree, path, scope)
            for name, svc in included.items():
                if name in merged or name in own:
                    # Only a later -f file may override an included service.
                    self._conflict(name, own.get(name, svc))
                    continue
                merged[name] = svc
            for name, svc in own.items():
                merged[name] = merge_service(merged[name], svc) if name in merged else svc
        return merged

    def _conflict(self, name: str, svc: YMap) -> None:
        self.report(
            Diagnostic(
                svc.location,
                INCLUDE,
                f"service {name} conflicts with a service of an included project",
                Level.ERROR,
            )
        )

    def _file_services(self, tree: YMap, path: str, scope: _Scope) -> dict[str, YMap]:
        """One file's services with ``extends`` resolved and paths made absolute."""
        raw = tree.get("services")
        if raw is None:
            return {}
        if not isinstance(raw, YMap):
            self.report(Diagnostic(raw.location, SCHEMA, "services is not a mapping", Level.ERROR))
            return {}
        out: dict[str, YMap] = {}
        for name in raw.items:
            svc = self._extended(path, name, scope)
            if svc is not None:
                out[name] = svc
        return out

    def _service_node(self, path: str, name: str, scope: _Scope) -> YMap | None:
        tree = self._tree(path, scope)
        services = tree.get("services") if tree is not None else None
        svc = services.get(name) if isinstance(services, YMap) else None
        if svc is None:
            return None
        if not isinstance(svc, YMap):
            # Compose's schema refuses "services: {a: }" (and any non-map).
            self.report(
                Diagnostic(svc.location, SCHEMA, f"service {name} must be a mapping", Level.ERROR)
            )
            return YMap({}, svc.location)
        return svc

    def _extended(
        self,
        path: str,
        name: str,
        scope: _Scope,
        stack: tuple[tuple[str, str], ...] = (),
        base_dir: str | None = None,
    ) -> YMap | None:
        """Service ``name`` of ``path`` with its ``extends`` chain merged in.

        ``base_dir`` anchors relative paths: the project directory for the
        project's own files, the file's directory once ``extends`` has
        crossed into another file.
        """
        svc = self._service_node(path, name, scope)
        if svc is None:
            return None
        base_dir = base_dir or scope.project_dir
        svc = _absolute_env_files(svc, base_dir)
        ext = svc.get("extends")
        if ext is None:
            return svc
        target = _extends_target(ext)
        if target is None:
            self.report(Diagnostic(ext.location, SCHEMA, "extends needs a service", Level.ERROR))
            return svc
        target_name, target_file = target
        target_path = path if target_file is None else _join(posixpath.dirname(path), target_file)
        here = (path, name)
        if (target_path, target_name) in (*stack, here):
            self.report(Diagnostic(ext.location, EXTENDS, f"extends cycle at {name}", Level.ERROR))
            return svc
        parent_dir = base_dir if target_path == path else posixpath.dirname(target_path)
        parent = self._extended(target_path, target_name, scope, (*stack, here), parent_dir)
        if parent is None:
            self.report(
                Diagnostic(
                    ext.location,
                    EXTENDS,
                    f"{name} extends {target_name}, which {target_path} does not define",
                    Level.ERROR,
                )
            )
            return svc
        own = replace(svc, items={k: v for k, v in svc.items.items() if k != "extends"})
        return merge_service(parent, own)

    def _included(self, tree: YMap, path: str, scope: _Scope) -> dict[str, YMap]:
        node = tree.get("include")
        if not isinstance(node, YSeq):
            return {}
        out: dict[str, YMap] = {}
        for entry in node.items:
            for name, svc in self._include_one(entry, path, scope).items():
                if name in out:
                    self._conflict(name, svc)
                    continue
                out[name] = svc
        return out

    def _include_one(self, entry: YNode, path: str, scope: _Scope) -> dict[str, YMap]:
        """Load one ``include`` entry as its own project (own dir, own .env)."""
        here = posixpath.dirname(path)
        source = entry if isinstance(entry, YScalar) else _field(entry, "path")
        paths = [_join(here, p) for p in _strings(source)]
        if not paths:
            return {}
        declared_dir = _first(_field(entry, "project_directory"))
        project_dir = _join(here, declared_dir) if declared_dir else posixpath.dirname(paths[0])
        env_paths = [_join(here, p) for p in _strings(_field(entry, "env_file"))] or [
            _join(project_dir, ".env")
        ]
        # The including project's variables win over the included .env.
        env = self._project_env(env_paths, scope.env, required=False)
        return self._services(paths, _Scope(project_dir, env))


# --- helpers on tree nodes -----------------------------------------------------


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


def _field(node: YNode | None, key: str) -> YNode | None:
    return node.get(key) if isinstance(node, YMap) else None


def _strings(node: YNode | None) -> list[str]:
    """A scalar or a list of scalars, as their values."""
    if isinstance(node, YScalar):
        return [node.value] if node.value is not None else []
    if isinstance(node, YSeq):
        return [i.value for i in node.items if isinstance(i, YScalar) and i.value is not None]
    return []


def _first(node: YNode | None) -> str | None:
    values = _strings(node)
    return values[0] if values else None


def _files_from_env(env: Mapping[str, str]) -> list[str]:
    """``COMPOSE_FILE`` (from .env or the shell) stands in for ``-f``."""
    separator = env.get("COMPOSE_PATH_SEPARATOR") or ":"
    return [f for f in env.get("COMPOSE_FILE", "").split(separator) if f]


def _profiles_from_env(env: Mapping[str, str]) -> tuple[str, ...]:
    text = env.get("COMPOSE_PROFILES", "")
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _extends_target(node: YNode) -> tuple[str, str | None] | None:
    if isinstance(node, YScalar):
        return (node.value, None) if node.value else None
    name = _first(_field(node, "service"))
    return (name, _first(_field(node, "file"))) if name else None


def _absolute_env_files(svc: YMap, base_dir: str) -> YMap:
    """Normalise ``env_file`` to a list of {path, required} with absolute paths.

    Done per file, before merging, because relative paths mean different
    things in an extended file and in an included project.
    """
    node = svc.get(ENV_FILE)
    if node is None:
        return svc
    entries = node.items if isinstance(node, YSeq) else (node,)
    normalised: list[YNode] = []
    for entry in entries:
        path = entry if isinstance(entry, YScalar) else _field(entry, "path")
        if not isinstance(path, YScalar) or path.value is None:
            continue
        required = _field(entry, "required")
        absolute = YScalar(path.raw, _join(base_dir, path.value), path.location)
        normalised.append(
            YMap(
                {"path": absolute, **({"required": required} if required else {})},
                path.location,
            )
        )
    items = dict(svc.items)
    items[ENV_FILE] = YSeq(tuple(normalised), node.location)
    return replace(svc, items=items)


# --- building services --------------------------------------------------------


def _build_service(
    loader: _Loader, name: str, svc: YMap, env: Mapping[str, str], active: Sequence[str]
) -> Service:
    profiles = tuple(_strings(svc.get("profiles")))
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
        ports=tuple(p for p in (_port(n) for n in _items(svc.get("ports"))) if p is not None),
    )


def _environment(
    loader: _Loader, name: str, svc: YMap, env: Mapping[str, str], active: bool
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
    loader: _Loader, service: str, key: str, scalar: YScalar, shadowed: EnvVar
) -> None:
    loader.report(
        Diagnostic(
            scalar.location,
            SHADOWED,
            f"{service}: {key} is set in {shadowed.location} but listed here without"
            " a value, so Compose leaves it unset in the container",
        )
    )


def _declared_environment(loader: _Loader, name: str, svc: YMap) -> dict[str, YScalar]:
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


def _check_string_lists(loader: _Loader, name: str, svc: YMap) -> None:
    """Compose's schema wants strings in exec-form lists: 0123 there is fatal."""
    lists = {
        "command": svc.get("command"),
        "entrypoint": svc.get("entrypoint"),
        "healthcheck.test": _field(svc.get("healthcheck"), "test"),
    }
    for key, node in lists.items():
        for item in _items(node):
            if isinstance(item, YScalar) and item.kind is not Kind.STR:
                loader.report(
                    Diagnostic(
                        item.location,
                        SCHEMA,
                        f"{name}: {key}: unquoted {item.raw or '(empty)'} is a YAML"
                        f" {item.kind.value}; Compose requires a string here",
                        Level.ERROR,
                    )
                )


def _check_typed(loader: _Loader, service: str, key: str, value: YScalar) -> None:
    """Report unquoted values whose YAML type changes what the container gets."""
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
            )
        )


def _env_file_vars(
    loader: _Loader,
    svc: YMap,
    declared: Mapping[str, YScalar],
    env: Mapping[str, str],
    active: bool,
) -> dict[str, EnvVar]:
    out: dict[str, EnvVar] = {}
    for ref in _items(svc.get(ENV_FILE)):
        path = _first(_field(ref, "path"))
        if path is None:
            continue
        required = _first(_field(ref, "required")) != "false"
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

        parsed = parse_dotenv(text, lookup, earlier)
        loader.report_dotenv(path, parsed)
        for entry in parsed.entries:
            if entry.value is None:
                continue
            out[entry.key] = EnvVar(
                entry.key, entry.raw, entry.value, Location(path, entry.line), ENV_FILE, path
            )
    return out


def _check_runnable(loader: _Loader, service: Service, node: YMap) -> None:
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


def _check_dependencies(
    loader: _Loader, service: Service, node: YMap, services: Mapping[str, Service]
) -> None:
    """An active service needing an inactive or undefined one stops Compose."""
    if not service.active:
        return
    for name, required, location in _dependencies(node.get("depends_on")):
        target = services.get(name)
        if not required or (target is not None and target.active):
            continue
        why = "undefined" if target is None else "in an inactive profile"
        loader.report(
            Diagnostic(
                location,
                DEPENDS_ON,
                f"{service.name} depends on {name}, which is {why}",
                Level.ERROR,
            )
        )


def _dependencies(node: YNode | None) -> list[tuple[str, bool, Location]]:
    if isinstance(node, YSeq):
        return [
            (i.value, True, i.location)
            for i in node.items
            if isinstance(i, YScalar) and i.value is not None
        ]
    if isinstance(node, YMap):
        return [
            (
                name,
                _first(_field(spec, "required")) != "false",
                node.key_locations.get(name, node.location),
            )
            for name, spec in node.items.items()
        ]
    return []


def _check_container_variables(loader: _Loader, svc: YMap, env: Mapping[str, EnvVar]) -> None:
    """The AWG-FACTS trap: ``$VAR`` in a command or healthcheck meant for the
    container's shell is interpolated by Compose from the project env."""
    for key in ("command", "entrypoint", "healthcheck"):
        for scalar in _scalars(svc.get(key)):
            for name in scalar.unset:
                if name in env:
                    loader.report(
                        Diagnostic(
                            scalar.location,
                            CONTAINER_VARIABLE,
                            f"${name} in {key} is interpolated by Compose, not by the"
                            f" container shell, and is empty; write $${name}",
                        )
                    )


def _scalars(node: YNode | None) -> list[YScalar]:
    if node is None:
        return []
    if isinstance(node, YScalar):
        return [node]
    children = node.items.values() if isinstance(node, YMap) else node.items
    return [s for child in children for s in _scalars(child)]


def _items(node: YNode | None) -> tuple[YNode, ...]:
    return node.items if isinstance(node, YSeq) else ()


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
        raw = ", ".join(i.raw for i in node.items if isinstance(i, YScalar))
        return Command(f"[{raw}]", words, node.location, shell=False)
    return None


def _split(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        # Unbalanced quotes: Compose would refuse; keep the text whole.
        return (text,)


def _healthcheck(node: YNode | None) -> Healthcheck | None:
    test = _field(node, "test")
    if isinstance(test, YScalar):
        return Healthcheck(test.raw, ("CMD-SHELL", test.value or ""), test.location)
    if isinstance(test, YSeq):
        command = _command(test)
        assert command is not None
        return Healthcheck(command.raw, command.words, test.location)
    return None


def _port(node: YNode) -> Value | None:
    if isinstance(node, YScalar):
        return _value(node)
    if isinstance(node, YMap):
        parts = {k: _first(node.get(k)) or "" for k in ("host_ip", "published", "target")}
        protocol = _first(node.get("protocol"))
        text = ":".join(p for p in (parts["host_ip"], parts["published"], parts["target"]) if p)
        return Value(
            "{" + ", ".join(f"{k}: {v}" for k, v in parts.items() if v) + "}",
            text + (f"/{protocol}" if protocol else ""),
            node.location,
        )
    return None
