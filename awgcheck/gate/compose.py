"""Compose consumers of the CI gate: a repository's compose projects as nodes.

Each compose file the config names is read as a project (the file, its
override when it has a default name, the ``.env`` next to it) by the same
reader and options as ``check``'s file mode; interpolation sees only that
``.env`` and the config's ``compose_env``, never the CI runner's shell.
Findings name files by their repository path, so annotations land on the
compose file's line.

A compose template (``compose_templates:``) is read the same way, with two
differences: a line that is only a ``{% ... %}`` or ``{# ... #}`` tag is
read as an empty line (it is not YAML; every branch between such tags is
read as written), and values holding ``{{ ... }}`` are placeholders that
the compose checks skip. ``${VAR}`` stays Compose's own interpolation.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from awgcheck.collect.base import MAX_FILE_BYTES
from awgcheck.collect.local import LocalTreeCollector, outside_tree, read_beneath
from awgcheck.documents.compose import FILE, ComposeDocument
from awgcheck.documents.compose_read import read_compose
from awgcheck.errors import CollectError
from awgcheck.inventory import Node
from awgcheck.parse.compose.project import DEFAULT_FILES, OVERRIDE_FILES
from awgcheck.parse.placeholders import blank_block_lines


class RepoFiles(LocalTreeCollector):
    """The work tree as a node tree whose root is the repository: ``/x`` is
    ``x`` in the repository, and reports name it so. Nothing outside the
    repository is read, not even through a symlink a change adds, and
    nothing under ``.git``."""

    tree = "the repository's work tree"

    def describe(self, path: str) -> str:
        try:
            return PurePosixPath(*self._resolve(path).relative_to(self.root).parts).as_posix()
        except CollectError:
            return path  # a '..' path: named as written; reading it is refused

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        parts = self._parts(path)
        if ".git" in parts:
            raise outside_tree(self.describe(path), self.tree)
        return read_beneath(self.root, parts, self.describe(path), limit=limit, tree=self.tree)


class TemplateFiles(RepoFiles):
    """The work tree, where the compose template's own files (``templates``,
    node paths) are read with their block-tag lines blanked."""

    def __init__(self, root: Path, templates: Sequence[str]) -> None:
        super().__init__(root)
        self.templates = frozenset(templates)

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        data = super().read_file(path, sudo=sudo, limit=limit)
        return blank_block_lines(data) if path in self.templates else data


def project_files(repo: Path, path: str) -> tuple[str, ...] | None:
    """The ``-f`` files of the project ``path`` (repo-relative) starts:
    a default-named file brings its override along, as ``docker compose``
    run in that folder does. None for an override whose folder has a
    default file: it is read as part of that project, not on its own."""
    folder = posixpath.dirname(path)
    name = posixpath.basename(path)
    if name in OVERRIDE_FILES and _first(repo, folder, DEFAULT_FILES) is not None:
        return None
    if name not in DEFAULT_FILES:
        return (path,)
    override = _first(repo, folder, OVERRIDE_FILES)
    return (path,) if override is None else (path, override)


def _first(repo: Path, folder: str, names: Sequence[str]) -> str | None:
    for name in names:
        candidate = posixpath.join(folder, name)
        if (repo / candidate).is_file():
            return candidate
    return None


def read(repo: Path, files: Sequence[str], *, env: Mapping[str, str],
         profiles: Sequence[str], template: bool = False) -> ComposeDocument:
    """The project of ``files`` as a compose document (a template's when
    ``template``). Never raises for a problem in the files: those are the
    document's diagnostics."""
    node = Node(name=files[0], local=repo, compose=tuple(f"/{f}" for f in files),
                compose_profiles=tuple(profiles))
    collector = TemplateFiles(repo, node.compose) if template else RepoFiles(repo)
    return read_compose(collector, node, mode=FILE, extra_env=dict(env), template=template)
