"""This machine as a node: its own files, and commands run right here.

``awgcheck verify`` runs on the node itself, and a ``local: /`` node of an
inventory is the machine awgcheck runs on (its tree is the whole root):
both read the running interface with the local ``awg``, through the same
readers as an SSH node (:mod:`awgcheck.collect.runtime`,
:mod:`awgcheck.triage.evidence`); only the transport differs. A node tree
elsewhere (``local: nodes/server``) is a copy of some other machine and has
no running state: it stays a :class:`~awgcheck.collect.local.LocalTreeCollector`.

Commands run without a shell (an argv, nothing to quote), with no stdin,
bounded by the node's deadline; with ``sudo`` they run as ``sudo -n --
<argv>`` and a refusal is raised as :class:`~awgcheck.collect.sudo.SudoRefused`
naming the sudoers line that allows exactly that command, as over SSH.
"""

from __future__ import annotations

import os
import pwd
import shlex
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from awgcheck.collect.base import MAX_FILE_BYTES, Collector, CommandResult, ConnectOptions
from awgcheck.collect.local import open_local, read_local_file
from awgcheck.collect.sudo import SudoRefused, read_argv, refusal, run_argv
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node

ROOT = Path("/")

_STDERR_LIMIT = 64 * 1024
_NOT_FOUND = 127  # what a shell reports for a program it cannot find


def is_this_machine(tree: Path) -> bool:
    """Whether a node tree is this machine's own root (``local: /``)."""
    return os.path.realpath(tree) == str(ROOT)


def needs_sudo() -> bool:
    """Reading a running interface needs root: anyone else asks sudo."""
    return os.geteuid() != 0


class MachineCollector:
    """Reads this machine's files and runs commands on it."""

    def __init__(self, *, sudo: bool = False, expires_at: float | None = None) -> None:
        self.sudo = sudo
        self.expires_at = expires_at

    def describe(self, path: str) -> str:
        return path  # the path as the operator types it on this machine

    def close(self) -> None:
        return None

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        """The file itself; when it is root's (0600) and sudo is allowed,
        ``sudo -n cat -- <path>``, as an SSH node with ``sudo: true`` reads."""
        try:
            return read_local_file(Path(path), limit)
        except CollectError as exc:
            if exc.error_class is not ErrorClass.PERMISSION_DENIED or not (sudo or self.sudo):
                raise
        result = self._exec(read_argv(path), path, limit)
        if result.exit_status != 0:
            raise CollectError(f"{path}: `{shlex.join(read_argv(path))}` exited "
                               f"{result.exit_status}: "
                               f"{result.stderr.decode('utf-8', 'replace').strip()[:300]}",
                               error_class=ErrorClass.PERMISSION_DENIED)
        return result.stdout

    def run(self, argv: Sequence[str], *, sudo: bool = False,
            timeout: float = 30.0) -> CommandResult:
        # Only what asks for sudo gets it (awg, not ping): sudo -n here is
        # for root's netlink, not a login policy as on an SSH node.
        words = run_argv(argv) if sudo else tuple(argv)
        result = self._exec(words, shlex.join(argv)[:80], MAX_FILE_BYTES, timeout)
        return CommandResult(tuple(argv), result.exit_status, result.stdout, result.stderr)

    def _exec(self, words: Sequence[str], where: str, limit: int,
              timeout: float = 30.0) -> CommandResult:
        allowed = timeout
        if self.expires_at is not None:
            allowed = min(allowed, self.expires_at - time.monotonic())
            if allowed <= 0:
                raise CollectError(f"{where}: the run's deadline has passed",
                                   error_class=ErrorClass.DEADLINE_EXCEEDED)
        try:
            done = subprocess.run(list(words), stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=allowed, check=False)
        except FileNotFoundError:
            if words[0] == "sudo":
                raise CollectError(f"{where}: sudo is not installed",
                                   error_class=ErrorClass.SUDO_FAILED) from None
            # As a shell says it: the runtime reader then explains how to
            # install the tool.
            return CommandResult(tuple(words), _NOT_FOUND, b"",
                                 f"{words[0]}: command not found".encode())
        except subprocess.TimeoutExpired:
            raise CollectError(f"{where}: command did not finish within {allowed:.1f}s",
                               error_class=ErrorClass.COMMAND_TIMEOUT) from None
        if len(done.stdout) > limit:
            raise CollectError(f"{where}: output is larger than {limit} bytes",
                               error_class=ErrorClass.OUTPUT_TOO_LARGE)
        if words[0] == "sudo" and done.returncode == 1:
            refused = refusal(done.stderr.decode("utf-8", "replace"))
            if refused is not None:
                # The command never ran: its "output" is sudo's complaint.
                raise SudoRefused(where, pwd.getpwuid(os.geteuid()).pw_name, words, refused)
        return CommandResult(tuple(words), done.returncode, done.stdout,
                             done.stderr[:_STDERR_LIMIT])


def open_machine(node: Node, options: ConnectOptions) -> MachineCollector:
    """The collector of this machine, for ``node`` (its ``sudo`` field)."""
    return MachineCollector(sudo=node.sudo, expires_at=options.expires_at)


def open_local_node(node: Node, options: ConnectOptions) -> Collector:
    """A ``local:`` node: this machine when its tree is ``/``, else a copied
    node tree (which has no running state)."""
    assert node.local is not None  # Node.transport said "local"
    if is_this_machine(node.local):
        return open_machine(node, options)
    return open_local(node, options)
