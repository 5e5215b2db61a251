"""Local node trees: a directory that mirrors a node's filesystem root.

``/etc/amnezia/amneziawg/awg0.conf`` on such a node is read from
``<root>/etc/amnezia/amneziawg/awg0.conf``. Used for demo fleets, tests and
air-gapped checks of copied node trees.

A node tree is data, not a view of this machine: every read stays inside
its tree (:func:`read_beneath`). A ``..`` in a node path, or a symlink
anywhere on the way that resolves outside the tree (to ``/proc/self/environ``,
``~/.aws/credentials``), is refused as ``outside_tree`` before a byte is
read; a symlink that stays inside the tree is followed. Only regular files
are read: a FIFO would block the read forever and a device has no end, so
both are ``not_a_file``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

from awgcheck.collect.base import (
    MAX_FILE_BYTES,
    CommandResult,
    ConnectOptions,
    Remote,
    file_missing,
    file_too_large,
    not_regular,
    permission_denied,
)
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node

_OPEN_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
               | getattr(os, "O_CLOEXEC", 0))


def outside_tree(where: str, tree: str) -> CollectError:
    return CollectError(f"{where}: leads out of {tree}; not read",
                        error_class=ErrorClass.OUTSIDE_TREE)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _regular(mode: int, where: str) -> None:
    error = not_regular(mode, where)
    if error is not None:
        raise error


def read_beneath(root: Path, parts: Sequence[str], where: str, *,
                 limit: int = MAX_FILE_BYTES, tree: str = "the node tree") -> bytes:
    """The regular file ``root/parts...``, read only if it lies inside
    ``root`` once every symlink is resolved; at most ``limit`` bytes.

    The one way every local read is made (node trees, the gate's work tree,
    files named on the command line with ``/`` as root). ``where`` names the
    file in errors, which never quote what a refused file holds or where a
    symlink points. Raises CollectError: ``outside_tree``, ``not_a_file``,
    ``file_missing``, ``permission_denied``, ``file_too_large``.
    """
    if ".." in parts:
        raise outside_tree(where, tree)
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if not _inside(real, real_root):
        raise outside_tree(where, tree)
    try:
        # Looked at before opening: opening a FIFO or a device can block or
        # act on it (a tape rewinds).
        _regular(os.stat(real).st_mode, where)
        fd = os.open(real, _OPEN_FLAGS)
    except FileNotFoundError:
        raise file_missing(where) from None
    except PermissionError:
        raise permission_denied(where) from None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise file_missing(where) from None
        if exc.errno == errno.ELOOP:  # the file became a symlink since realpath
            raise outside_tree(where, tree) from None
        raise CollectError(f"{where}: {os.strerror(exc.errno or 0)}") from None
    try:
        # What was opened, not what was resolved a moment earlier: a folder
        # swapped for a symlink in between must not lead out either.
        _regular(os.fstat(fd).st_mode, where)
        if not _inside(_opened_path(fd, real), real_root):
            raise outside_tree(where, tree)
        return _read_capped(fd, where, limit)
    finally:
        os.close(fd)


def _opened_path(fd: int, fallback: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc (not Linux): the resolved path is all there is
        return fallback


def _read_capped(fd: int, where: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        try:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
        except OSError as exc:
            raise CollectError(f"{where}: {os.strerror(exc.errno or 0)}") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise file_too_large(where, limit)


class LocalTreeCollector:
    """Reads files of one node from a local directory tree."""

    tree = "the node tree"
    """How errors name the tree a path must stay in."""

    remote: Remote | None = None  # the files are on this machine

    def __init__(self, root: Path) -> None:
        self.root = root
        self._described: dict[str, str] = {}

    @staticmethod
    def _parts(path: str) -> list[str]:
        # Absolute node paths are re-rooted under the tree.
        return [p for p in Path(path).parts if p not in ("/", "", ".")]

    def _resolve(self, path: str) -> Path:
        parts = self._parts(path)
        if ".." in parts:
            raise outside_tree(path, self.tree)
        return self.root.joinpath(*parts)

    def describe(self, path: str) -> str:
        # Relative to the working folder when inside it: shorter in reports
        # and the form CI annotations expect. The file itself is not
        # resolved: a symlink is named where it is, not where it points.
        # Remembered: a compose document names its file for every finding,
        # and resolving the root each time was a third of the evaluation.
        known = self._described.get(path)
        if known is None:
            resolved = self.root.resolve().joinpath(*self._parts(path))
            try:
                known = str(resolved.relative_to(Path.cwd()))
            except ValueError:
                known = str(resolved)
            self._described[path] = known
        return known

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        where = str(self._resolve(path))
        return read_beneath(self.root, self._parts(path), where, limit=limit, tree=self.tree)

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        raise CollectError(
            "a local node tree has no running state; commands need an SSH node",
            error_class=ErrorClass.NOT_SUPPORTED,
        )

    def close(self) -> None:
        return None


def open_local(node: Node, options: ConnectOptions) -> LocalTreeCollector:
    """The collector of a node kept as a local tree (inventory ``local:``);
    nothing to connect, so the options do not apply."""
    assert node.local is not None  # Node.transport said "local"
    return LocalTreeCollector(node.local)


def read_local_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A file on this machine (a source conf, a file named on the command
    line), with the same cap and error classes as a node's files; the whole
    machine is its tree, so symlinks are followed, but a FIFO or a device
    is still refused (``not_a_file``) rather than read forever."""
    absolute = Path(os.path.abspath(path))
    return read_beneath(Path("/"), absolute.parts[1:], str(path), limit=limit)
