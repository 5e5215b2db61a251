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

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose.dotenv import parse_dotenv
from awgcheck.parse.compose.model import (
    CONTAINER_VARIABLE,
    DEPENDS_ON,
    EMPTY_HOST_IP,
    ENCODING,
    ENV_FILE,
    ENV_FILE_MISSING,
    ENVIRONMENT,
    EXTENDS,
    FILE_MISSING,
    INCLUDE,
    SCHEMA,
    SHADOWED,
    TIMESTAMP,
    TYPED_VALUE,
    YAML11_VALUE,
    Command,
    ComposeProject,
    EnvVar,
    Healthcheck,
    Port,
    Service,
    Value,
)
from awgcheck.parse.compose.service import build_service, check_dependencies, check_runnable
from awgcheck.parse.compose.tree import (
    YMap,
    YNode,
    YScalar,
    YSeq,
    build_tree,
    field_of,
    first,
    merge_service,
    strings,
    without_resets,
)

__all__ = [
    "CONTAINER_VARIABLE",
    "DEFAULT_FILES",
    "DEPENDS_ON",
    "EMPTY_HOST_IP",
    "ENCODING",
    "ENVIRONMENT",
    "ENV_FILE",
    "ENV_FILE_MISSING",
    "EXTENDS",
    "FILE_MISSING",
    "INCLUDE",
    "OVERRIDE_FILES",
    "SCHEMA",
    "SHADOWED",
    "TIMESTAMP",
    "TYPED_VALUE",
    "YAML11_VALUE",
    "Command",
    "ComposeProject",
    "EnvVar",
    "Healthcheck",
    "Port",
    "Reader",
    "Service",
    "Value",
    "load_project",
]

Reader = Callable[[str], bytes | None]
"""Returns a file's bytes, or None when the file does not exist."""

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


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
    """One load: the read cache, parsed trees and the diagnostics so far."""

    def __init__(self, read: Reader, extra_env: dict[str, str]) -> None:
        self._reader = read
        self._cache: dict[str, bytes | None] = {}
        self.extra_env = extra_env
        self.diagnostics: list[Diagnostic] = []
        self._reported: set[Diagnostic] = set()  # a list scan made 5,000 diagnostics quadratic
        self.trees: dict[str, YMap | None] = {}
        self.including: list[str] = []  # files whose includes are being read (cycles)

    def read(self, path: str) -> bytes | None:
        """Each file is read once: over SSH every read is a round trip."""
        if path not in self._cache:
            self._cache[path] = self._reader(path)
        return self._cache[path]

    def report(self, diagnostic: Diagnostic) -> None:
        """Record ``diagnostic`` once (aliases and extends revisit nodes)."""
        if diagnostic not in self._reported:
            self._reported.add(diagnostic)
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
            name: build_service(self, name, svc, env, active) for name, svc in services.items()
        }
        for service in built.values():
            check_runnable(self, service, services[service.name])
            check_dependencies(self, service, services[service.name], built)
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

            parsed = parse_dotenv(text, outer.get, values.get, path=path)
            for diagnostic in parsed.diagnostics:
                self.report(diagnostic)
            values.update(parsed.values())
        return {**values, **outer}

    def text(
        self, path: str, *, required: bool, code: str = FILE_MISSING, level: Level = Level.ERROR
    ) -> str | None:
        """The file as text; None (reported if ``required``) when unreadable."""
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
            if path in self.including:
                chain = " -> ".join([*self.including[self.including.index(path):], path])
                self.report(Diagnostic(Location(path), INCLUDE,
                                       f"include cycle ({chain}); Compose refuses it",
                                       Level.ERROR))
                continue
            tree = self._tree(path, scope)
            if tree is None:
                continue
            self.including.append(path)
            try:
                included = self._included(tree, path, scope)
            finally:
                self.including.pop()
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
        source = entry if isinstance(entry, YScalar) else field_of(entry, "path")
        paths = [_join(here, p) for p in strings(source)]
        if not paths:
            return {}
        declared_dir = first(field_of(entry, "project_directory"))
        project_dir = _join(here, declared_dir) if declared_dir else posixpath.dirname(paths[0])
        env_paths = [_join(here, p) for p in strings(field_of(entry, "env_file"))] or [
            _join(project_dir, ".env")
        ]
        # The including project's variables win over the included .env.
        env = self._project_env(env_paths, scope.env, required=False)
        return self._services(paths, _Scope(project_dir, env))


# --- helpers on tree nodes -----------------------------------------------------


def _join(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path))


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
    name = first(field_of(node, "service"))
    return (name, first(field_of(node, "file"))) if name else None


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
        path = entry if isinstance(entry, YScalar) else field_of(entry, "path")
        if not isinstance(path, YScalar) or path.value is None:
            continue
        absolute = YScalar(path.raw, _join(base_dir, path.value), path.location)
        options = {
            key: value
            for key in ("required", "format")
            if (value := field_of(entry, key)) is not None
        }
        normalised.append(YMap({"path": absolute, **options}, path.location))
    items = dict(svc.items)
    items[ENV_FILE] = YSeq(tuple(normalised), node.location)
    return replace(svc, items=items)
