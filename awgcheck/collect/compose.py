"""Reading a node's compose files and ``docker compose config`` through its
collector; :mod:`awgcheck.documents.compose` assembles them into the
node's compose document.

Two modes (``--compose-mode``):

* ``file`` (default): the node's compose files, ``.env`` and env files are
  read through the collector and resolved by awgcheck's own reader, which
  reproduces ``docker compose config`` without Docker. Interpolation sees
  the node's own ``.env`` files plus ``--compose-env`` values, never the
  checker's shell.
* ``node``: ``docker compose -f ... config --format json`` runs on the node
  (over SSH) and its resolved view is used. The files are still read, only
  to give each value its text as written and its ``file:line``.

Nothing here raises for a problem in the node's compose files: a missing or
unreadable file, a failed interpolation, ``docker`` failing on the node all
become diagnostics, which rules report as that node's compose findings. The
node's conf is checked as usual.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from awgcheck.collect.base import Collector
from awgcheck.collect.compose_stderr import retell
from awgcheck.collect.local import read_local_file
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node
from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose import config_json
from awgcheck.parse.compose.project import ComposeProject, Reader
from awgcheck.secrecy import conceal, is_secret_name, is_secret_value, secrets_held

UNREADABLE = "file-unreadable"
"""A compose file or env file exists but could not be read (permission,
size cap)."""
NODE_CONFIG = "node-config-failed"
"""``docker compose config`` could not run on the node, or said no."""
INTERNAL = "compose-internal"
"""awgcheck itself failed on the project: a bug, reported, never a crash."""

# Errors that say the node is gone, not that one file is bad: the node
# result must say so, so they are not folded into compose findings.
_TRANSPORT = frozenset({ErrorClass.DEADLINE_EXCEEDED, ErrorClass.CONNECTION_DROPPED})


def node_reader(collector: Collector, sudo: bool, problems: list[Diagnostic]) -> Reader:
    """Files read through ``collector``: an absent file is None, an unreadable
    one a problem in ``problems``; a lost connection still raises."""
    def read(path: str) -> bytes | None:
        try:
            return collector.read_file(path, sudo=sudo)
        except CollectError as exc:
            if exc.error_class in (ErrorClass.FILE_MISSING, ErrorClass.NOT_A_FILE):
                return None
            if exc.error_class in _TRANSPORT:
                raise
            problems.append(Diagnostic(Location(path), UNREADABLE, str(exc), Level.ERROR))
            return None

    return read


# --- node mode ------------------------------------------------------------------------

def config_argv(node: Node, extra_env: Mapping[str, str]) -> list[str]:
    """``docker compose ... config --format json`` as run on the node.

    ``--compose-env`` values are passed through ``env`` because Compose
    reads them from its own environment, as it would from the shell that
    starts the stack.
    """
    argv = ["env", *(f"{k}={v}" for k, v in extra_env.items())] if extra_env else []
    argv += ["docker", "compose", "--project-directory", posixpath.dirname(node.compose[0])]
    for file in node.compose:
        argv += ["-f", file]
    for env_file in node.compose_env_files:
        argv += ["--env-file", env_file]
    for profile in node.compose_profiles:
        argv += ["--profile", profile]
    return [*argv, "config", "--format", "json"]


def node_view(collector: Collector, node: Node, local: ComposeProject,
               extra_env: Mapping[str, str], timeout: float
               ) -> tuple[ComposeProject, list[Diagnostic]]:
    """``local`` (the file reader's project) as ``docker compose config`` on
    the node resolves it, with any problem running it as diagnostics."""
    argv = config_argv(node, extra_env)
    where = Location(node.compose[0])
    try:
        result = collector.run(argv, sudo=node.sudo, timeout=timeout)
    except CollectError as exc:
        if exc.error_class in _TRANSPORT:
            raise
        return local, [Diagnostic(where, NODE_CONFIG, f"could not run docker compose config "
                                  f"on the node: {exc}", Level.ERROR)]
    shown = shlex.join(config_argv(node, {k: _shown_value(k, v) for k, v in extra_env.items()}))
    if result.exit_status != 0:
        said = retell(result.stderr, result.exit_status, _secrets(local, extra_env))
        return local, [Diagnostic(where, NODE_CONFIG, f"`{shown}` exited with "
                                  f"{result.exit_status}: {said}", Level.ERROR)]
    try:
        return config_json.parse(result.stdout, local), []
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return local, [Diagnostic(where, NODE_CONFIG, f"`{shown}` printed no compose JSON "
                                  f"document ({type(exc).__name__})", Level.ERROR)]


def _shown_value(name: str, value: str) -> str:
    """A ``--compose-env`` value as the shown command line may carry it."""
    return conceal(value, is_secret_name(name) or is_secret_value(value)) or ""


def _secrets(project: ComposeProject, extra_env: Mapping[str, str]) -> Iterator[str]:
    """Every secret the node's Compose was handed, as far as the file reader
    knows: interpolation variables (``.env``, ``--compose-env``) and each
    service's environment, from its files and env files."""
    pairs: list[tuple[str, str | None]] = [*project.variables.items(), *extra_env.items()]
    for service in project.services.values():
        for var in service.environment.values():
            pairs += [(var.name, var.raw), (var.name, var.value)]
    for name, value in pairs:
        yield from secrets_held(name, value)


def local_reader() -> Callable[[str], bytes | None]:
    """A reader for files on this machine (``inspect compose``), capped and
    refusing FIFOs and devices as every local read does: an absent file (or
    a folder, FIFO or device) is None, one that exists but cannot be read
    raises CollectError."""

    def read(path: str) -> bytes | None:
        try:
            return read_local_file(Path(path))
        except CollectError as exc:
            if exc.error_class in (ErrorClass.FILE_MISSING, ErrorClass.NOT_A_FILE):
                return None
            raise

    return read
