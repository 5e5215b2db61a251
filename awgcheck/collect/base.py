"""The collector interface: how the pipeline reads bytes from one node.

A collector is opened per node, serves every read for that node (one SSH
connection, say, reused for all files) and is closed when the node is done.
Failures are raised as :class:`~awgcheck.errors.CollectError` with a stable
``error_class``; the pipeline turns them into a node result of status
"error" and goes on with the other nodes.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from awgcheck.collect.scope import RunScope
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node
from awgcheck.model import Location

MAX_FILE_BYTES = 1024 * 1024
"""Cap on what is read from a node per file: a hostile or broken node must
not be able to exhaust the checker's memory."""


@dataclass(frozen=True)
class CommandResult:
    """What a command run on a node printed and how it exited."""

    argv: tuple[str, ...]
    exit_status: int
    stdout: bytes
    stderr: bytes


@dataclass(frozen=True)
class Remote:
    """The host a transport reaches a node's files on: its name as the
    inventory or ssh_config gives it, and the port. Messages name a file
    there ``host:/path`` (``host:port:/path``, as :class:`Location` does);
    reports take host, port and path apart again (:meth:`locate`)."""

    host: str
    port: int

    def describe(self, path: str) -> str:
        return Location(path, host=self.host, port=self.port).place

    def locate(self, location: Location) -> Location:
        """``location`` as read (its path named by :meth:`describe`) with
        host, port and path apart; any other location as it is."""
        prefix = self.describe("")
        if location.host is not None or not location.path.startswith(prefix):
            return location
        return replace(location, path=location.path[len(prefix):], host=self.host,
                       port=self.port)


class Collector(Protocol):
    """Reads files and runs commands on one node."""

    remote: Remote | None
    """The host the node's files are on (None: local files)."""

    def describe(self, path: str) -> str:
        """How reports should name ``path`` on this node (a local file path,
        or ``host:/etc/...``)."""
        ...

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        """Return the file's bytes; raise CollectError (file_missing,
        permission_denied, file_too_large, ...) when it cannot be read."""
        ...

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        """Run ``argv`` on the node (every word quoted for the remote shell)."""
        ...

    def close(self) -> None:
        ...


@dataclass(frozen=True)
class ConnectOptions:
    """What every transport is opened with, from the command line."""

    deadline: float = 30.0  # the node as a whole: connect, reads, commands
    expires_at: float | None = None  # that deadline as a time.monotonic() value, when set
    ssh_config: str | None = None  # None: what plain ssh reads (~/.ssh/config, /etc/ssh/ssh_config)
    accept_new_host_keys: bool = False
    scope: RunScope | None = field(default=None, compare=False)  # what the run's nodes share
    bastion_channels: int | None = None  # per shared bastion; None: the transport's default


Opener = Callable[[Node, ConnectOptions], Collector]
"""Opens one node's collector; ``awgcheck.collect.transports.TRANSPORTS`` holds one per
transport. Raises CollectError when the node cannot be opened."""


def file_missing(where: str) -> CollectError:
    return CollectError(f"{where}: file not found", error_class=ErrorClass.FILE_MISSING)


def permission_denied(where: str) -> CollectError:
    return CollectError(f"{where}: permission denied", error_class=ErrorClass.PERMISSION_DENIED)


def file_too_large(where: str, limit: int) -> CollectError:
    return CollectError(
        f"{where}: file is larger than {limit} bytes; refusing to read it",
        error_class=ErrorClass.FILE_TOO_LARGE,
    )


_KINDS = ((stat.S_ISDIR, "is a directory, not a file"),
          (stat.S_ISFIFO, "is a FIFO, not a regular file; not read"),
          (stat.S_ISCHR, "is a character device, not a regular file; not read"),
          (stat.S_ISBLK, "is a block device, not a regular file; not read"),
          (stat.S_ISSOCK, "is a socket, not a regular file; not read"))


def not_regular(mode: int, where: str) -> CollectError | None:
    """``not_a_file`` when ``mode`` (a stat ``st_mode``) is not a regular
    file's, naming what it is; None for a regular file.

    Every transport looks before it opens: opening a FIFO blocks until a
    writer comes (for good, on a node nobody writes to), and a device has
    no end or acts when opened (a tape rewinds)."""
    if stat.S_ISREG(mode):
        return None
    message = next((text for test, text in _KINDS if test(mode)),
                   "is not a regular file; not read")
    return CollectError(f"{where}: {message}", error_class=ErrorClass.NOT_A_FILE)
