"""How a node's compose project is read: the compose document kind.

Apart from :mod:`awgcheck.documents.compose` (the document and what counts
as secret in it) because reading goes through a collector, and the checks
that judge the document must not load the transports.

Read when the node lists compose files (inventory ``compose:``). Never
fatal: a compose file that is missing, unreadable or refused becomes a
diagnostic, which rules report as that node's compose findings; only a
lost connection makes the node unreadable.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from awgcheck import params
from awgcheck.collect.base import Collector
from awgcheck.collect.compose import INTERNAL, node_reader, node_view
from awgcheck.documents.base import DocumentKind, Reading, ReadOptions
from awgcheck.documents.compose import FILE, NODE, ComposeDocument
from awgcheck.errors import CollectError
from awgcheck.inventory import Node
from awgcheck.model import Diagnostic, Level, Location
from awgcheck.parse.compose.project import ComposeProject, load_project


def wanted(node: Node, options: ReadOptions) -> bool:
    """Only nodes that list compose files have a compose project."""
    return bool(node.compose)


def read(collector: Collector, node: Node, options: ReadOptions) -> Reading:
    """The node's compose project, read in ``--compose-mode``."""
    return Reading(read_compose(collector, node, mode=options.compose_mode,
                                extra_env=dict(options.compose_env), timeout=options.timeout))


KIND = DocumentKind(wanted, read)


def read_compose(collector: Collector, node: Node, *, mode: str = FILE,
                 extra_env: Mapping[str, str] | None = None,
                 timeout: float = 30.0, template: bool = False) -> ComposeDocument:
    """The node's compose project (inventory ``compose:``, its project
    directory the first file's folder, ``compose_env_files`` and
    ``compose_profiles``), read in ``mode``; ``template`` marks it as a
    template (see :class:`ComposeDocument`)."""
    files = list(node.compose)
    problems: list[Diagnostic] = []
    reader = node_reader(collector, node.sudo, problems)
    project_dir = posixpath.dirname(files[0])
    try:
        project = load_project(
            reader, files, project_dir=project_dir,
            env_files=list(node.compose_env_files) or None,
            extra_env=dict(extra_env or {}), profiles=node.compose_profiles)
        if mode == NODE:
            project, extra = node_view(collector, node, project, dict(extra_env or {}),
                                       timeout)
            problems.extend(extra)
    except CollectError:
        raise
    except Exception as exc:  # a reader bug must not sink the node
        problems.append(Diagnostic(Location(files[0]), INTERNAL,
                                   f"awgcheck could not read the project: "
                                   f"{type(exc).__name__}: {params.scrub(str(exc))}",
                                   Level.ERROR))
        project = ComposeProject(project_dir, tuple(files), (), {}, (), ())
    return ComposeDocument(collector.describe(files[0]), project, mode, tuple(problems),
                           collector.describe, template)
