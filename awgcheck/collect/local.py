"""Local node trees: a directory that mirrors a node's filesystem root.

``/etc/amnezia/amneziawg/awg0.conf`` on such a node is read from
``<root>/etc/amnezia/amneziawg/awg0.conf``. Used for demo fleets, tests and
air-gapped checks of copied node trees.
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
    file_missing,
    file_too_large,
    permission_denied,
)
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node


class LocalTreeCollector:
    """Reads files of one node from a local directory tree."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _resolve(self, path: str) -> Path:
        # Absolute node paths are re-rooted under the tree; ".." must not
        # climb out of it (a node tree is data, not a view of this machine).
        parts = [p for p in Path(path).parts if p not in ("/", "", ".")]
        if ".." in parts:
            raise CollectError(f"{path}: '..' is not allowed in a node path",
                               error_class=ErrorClass.BAD_PATH)
        return self.root.joinpath(*parts)

    def describe(self, path: str) -> str:
        # Relative to the working folder when inside it: shorter in reports
        # and the form CI annotations expect.
        resolved = self._resolve(path)
        try:
            return str(resolved.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(resolved)

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        target = self._resolve(path)
        where = str(target)
        try:
            with open(target, "rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise file_missing(where) from None
        except PermissionError:
            raise permission_denied(where) from None
        except IsADirectoryError:
            raise CollectError(f"{where}: is a directory, not a file",
                               error_class=ErrorClass.NOT_A_FILE) from None
        except OSError as exc:
            if exc.errno == errno.ENOTDIR:
                raise file_missing(where) from None
            raise CollectError(f"{where}: {os.strerror(exc.errno or 0)}") from None
        if len(data) > limit:
            raise file_too_large(where, limit)
        return data

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
    line), with the same cap and error classes as a node's files."""
    return LocalTreeCollector(Path("/")).read_file(str(path.resolve()), limit=limit)
