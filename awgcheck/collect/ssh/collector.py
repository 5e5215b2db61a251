"""Reads and commands on one authenticated SSH node (see :func:`open_ssh`).

Files are read over SFTP (no login shell, no quoting); ``sudo=True`` runs
``sudo -n cat -- <path>`` instead, which needs a NOPASSWD sudoers rule
(:mod:`awgcheck.collect.sudo` says which, when sudo refuses).
Commands run without a pty, stdout and stderr drained together, under the
node's ``timeout`` so that none outlives awgcheck's wait for it. Every
failure is a :class:`~awgcheck.errors.CollectError` that names the node and
the file or command; past the node's deadline it is ``deadline_exceeded``.

Behind a shared bastion, a read that fails because the bastion's
connection dropped (not the node's) reconnects through the re-established
bastion and is tried once more; a node is retried once at most.
"""

from __future__ import annotations

import errno
import math
import select
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import paramiko

from awgcheck.collect.base import (
    MAX_FILE_BYTES,
    CommandResult,
    Remote,
    file_missing,
    file_too_large,
    not_regular,
    permission_denied,
)
from awgcheck.collect.ssh.config import SshTarget
from awgcheck.collect.ssh.jumps import Lease
from awgcheck.collect.ssh.sftp import (
    SftpError,
    SftpNotRegular,
    SftpReader,
    SftpTooLarge,
    SftpUnavailable,
)
from awgcheck.collect.ssh.watchdog import Watchdog, deadline_exceeded, fail, quietly
from awgcheck.collect.sudo import SudoRefused, read_argv, refusal, run_argv
from awgcheck.errors import CollectError, ErrorClass

STDERR_CAP = 64 * 1024
_LOST = (paramiko.SSHException, EOFError, OSError, UnicodeDecodeError)
"""What a dead or dying transport raises; UnicodeDecodeError is paramiko's
transport thread failing on text the server sent (a disconnect reason that
is not UTF-8), raised again in whoever waits on it."""
_CHUNK = 32768

T = TypeVar("T")


_BOUNDED = ('if timeout -k {kill} 1 true 2>/dev/null; then exec timeout -k {kill} {seconds} "$@"; '
            'fi; exec "$@"')
KILL_AFTER = 5
"""Seconds between the remote ``timeout``'s SIGTERM and its SIGKILL."""


def bounded(argv: Sequence[str], seconds: float) -> str:
    """``argv`` as a remote shell command that ends by itself once awgcheck
    stops waiting for it.

    Closing the channel does not end a command without a pty: sshd sends
    no SIGHUP, so a ``sudo cat`` blocked on a FIFO would stay on the node
    for good. The command runs under the node's ``timeout`` (SIGTERM, which
    sudo relays to what it runs, then SIGKILL) with the seconds awgcheck
    waits, rounded up; a node without a usable ``timeout`` runs it as is.
    """
    script = _BOUNDED.format(kill=KILL_AFTER, seconds=max(1, math.ceil(seconds)))
    return shlex.join(["sh", "-c", script, "sh", *argv])


@dataclass
class Link:
    """A node's open connection: its own transport and, behind bastions,
    the channel of the shared bastion it runs over."""

    transport: paramiko.Transport
    lease: Lease | None = None

    def bastion_dropped(self) -> bool:
        """Whether it broke because the bastion's connection did."""
        return self.lease is not None and self.lease.dropped()

    def close(self) -> None:
        quietly(self.transport.close)
        if self.lease is not None:
            self.lease.release()


class SshCollector:
    """Reads files and runs commands on one SSH node (opened by
    :func:`~awgcheck.collect.ssh.connect.open_ssh`).

    ``reconnect()`` opens the node again after its link lost the bastion
    under it; ``after_close`` runs once the node is closed.
    """

    def __init__(self, target: SshTarget, remote: Remote, link: Link, watchdog: Watchdog,
                 user: str, *, reconnect: Callable[[], Link] | None = None,
                 after_close: Callable[[], None] | None = None) -> None:
        self.target = target
        self.remote: Remote | None = remote
        self.label = remote.describe("").removesuffix(":")  # host, or host:port
        self.user = user  # the login user: the one a sudoers rule must name
        self._link = link
        self._reconnect = reconnect
        self._after_close = after_close
        self._dog = watchdog
        self._sftp: SftpReader | None = None
        self._lock = threading.Lock()

    @property
    def transport(self) -> paramiko.Transport:
        """The node's own transport (the last hop of a jump chain)."""
        return self._link.transport

    def describe(self, path: str) -> str:
        """``host:port:/path`` (``host:/path`` on port 22), as messages name it."""
        return f"{self.label}:{path}"

    # -- errors -------------------------------------------------------------

    def _lost(self, where: str, exc: BaseException) -> NoReturn:
        if self._dog.fired:
            deadline_exceeded(where, self._dog)
        fail(where, f"connection dropped: {exc or type(exc).__name__}",
              ErrorClass.CONNECTION_DROPPED)

    def _retrying(self, operation: Callable[[], T]) -> T:
        """``operation()``, once more over a fresh connection if the shared
        bastion under this one dropped (the bastion is re-established once
        per run; each node is retried once)."""
        try:
            return operation()
        except CollectError as exc:
            if (exc.error_class is not ErrorClass.CONNECTION_DROPPED or self._dog.fired
                    or self._reconnect is None or not self._link.bastion_dropped()):
                raise
        reconnect, self._reconnect = self._reconnect, None
        self._drop_sftp()
        self._link.close()
        self._link = reconnect()
        return operation()

    # -- files --------------------------------------------------------------

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        """Read ``path`` over SFTP, or with ``sudo -n cat`` when sudo is asked
        for (per call or on the target)."""
        return self._retrying(lambda: self._read(path, sudo, limit))

    def _read(self, path: str, sudo: bool, limit: int) -> bytes:
        if sudo or self.target.sudo:
            return self._read_sudo(path, limit)
        where = self.describe(path)
        if self._dog.fired:
            deadline_exceeded(where, self._dog)
        try:
            return self._sftp_reader().read(path, limit)
        except SftpUnavailable:
            self._drop_sftp()
            fail(where, "the node's sshd offers no SFTP (no working `Subsystem sftp` in "
                 "sshd_config): enable it, or set `sudo: true` to read files with sudo cat",
                 ErrorClass.NOT_SUPPORTED)
        except SftpTooLarge:
            raise file_too_large(where, limit) from None
        except SftpNotRegular as exc:
            refused = not_regular(exc.mode, where)
            assert refused is not None  # raised only for what is not a regular file
            raise refused from None
        except SftpError as exc:
            if exc.errno == errno.ENOENT:
                raise file_missing(where) from None
            if exc.errno == errno.EACCES:
                raise permission_denied(where) from None
            if exc.errno == errno.EISDIR:
                fail(where, "is a directory, not a file", ErrorClass.NOT_A_FILE)
            fail(where, f"SFTP read failed: {exc}", ErrorClass.COLLECT_FAILED)
        except _LOST as exc:
            # The SFTP stream is in an unknown state now; never reuse it.
            self._drop_sftp()
            self._lost(where, exc)

    def _drop_sftp(self) -> None:
        with self._lock:
            if self._sftp is not None:
                quietly(self._sftp.close)
                self._sftp = None

    def _sftp_reader(self) -> SftpReader:
        # One SFTP channel per node, started on first use and kept for every
        # later read (a subsystem start costs two round trips).
        with self._lock:
            if self._sftp is None:
                self._sftp = SftpReader.start(self.transport, max(0.1, self._dog.remaining()))
            return self._sftp

    def _read_sudo(self, path: str, limit: int) -> bytes:
        where = self.describe(path)
        argv = read_argv(path)
        result = self._exec(argv, where, limit=limit, timeout=self._dog.remaining(),
                            too_large=lambda: file_too_large(where, limit))
        if result.exit_status == 0:
            return result.stdout
        err = result.stderr.decode("utf-8", "replace").strip()
        lowered = err.lower()
        refused = refusal(err)
        if refused is not None:
            raise SudoRefused(where, self.user, argv, refused)
        if result.exit_status == 127:
            # Before "no such file": timeout(1) says so of a missing sudo.
            fail(where, f"sudo is not installed on the node ({err})", ErrorClass.SUDO_FAILED)
        if "no such file" in lowered:
            raise file_missing(where)
        if "permission denied" in lowered:
            raise permission_denied(where)
        if "is a directory" in lowered:
            fail(where, "is a directory, not a file", ErrorClass.NOT_A_FILE)
        fail(where, f"sudo cat exited {result.exit_status}: {err[:300]}", ErrorClass.SUDO_FAILED)

    # -- commands -----------------------------------------------------------

    def run(self, argv: Sequence[str], *, sudo: bool = False, timeout: float = 30.0
            ) -> CommandResult:
        """Exec ``argv`` (each word shell-quoted) without a pty; stdout is
        capped at MAX_FILE_BYTES, stderr at 64 KiB."""
        return self._retrying(lambda: self._run(argv, sudo, timeout))

    def _run(self, argv: Sequence[str], sudo: bool, timeout: float) -> CommandResult:
        words = tuple(argv)
        if sudo or self.target.sudo:
            words = run_argv(words)
        where = f"{self.label}: {shlex.join(tuple(argv))[:80]}"
        result = self._exec(words, where, limit=MAX_FILE_BYTES, timeout=timeout,
                            too_large=lambda: CollectError(
                                f"{where}: output is larger than {MAX_FILE_BYTES} bytes",
                                error_class=ErrorClass.OUTPUT_TOO_LARGE))
        if words[0] == "sudo" and result.exit_status == 1:
            refused = refusal(result.stderr.decode("utf-8", "replace"))
            if refused is not None:
                # The command never ran: a CommandResult would pass sudo's
                # complaint off as the command's own output.
                raise SudoRefused(where, self.user, words, refused)
        return CommandResult(tuple(argv), result.exit_status, result.stdout, result.stderr)

    def _exec(self, argv: Sequence[str], where: str, *, limit: int, timeout: float,
              too_large: Callable[[], CollectError]) -> CommandResult:
        if self._dog.fired:
            deadline_exceeded(where, self._dog)
        allowed = min(timeout, self._dog.remaining())
        ends_at = time.monotonic() + allowed
        try:
            channel = self.transport.open_session(timeout=max(0.1, self._dog.remaining()))
        except _LOST as exc:
            self._lost(where, exc)
        try:
            channel.exec_command(bounded(argv, allowed))
            channel.shutdown_write()  # no stdin: commands must not wait for it
            stdout, stderr = self._drain(channel, where, limit, ends_at, timeout, too_large)
            if not channel.status_event.wait(max(0.0, ends_at - time.monotonic())):
                self._timed_out(where, timeout)
            status = channel.exit_status
        except _LOST as exc:
            self._lost(where, exc)
        finally:
            # After the watchdog (or the node) closed the transport, close()
            # raises EOFError; that must not replace the error in flight.
            quietly(channel.close)
        if status == -1 and not self.transport.is_active():
            self._lost(where, EOFError("node closed the connection"))
        return CommandResult(tuple(argv), status, stdout, stderr)

    def _drain(self, channel: paramiko.Channel, where: str, limit: int, ends_at: float,
               timeout: float, too_large: Callable[[], CollectError]) -> tuple[bytes, bytes]:
        """Read stdout and stderr together until EOF.

        Both streams are polled in one loop: waiting on stdout alone while
        the remote fills its stderr window would deadlock the command.
        """
        out = bytearray()
        err = bytearray()
        while True:
            got = False
            while channel.recv_ready():
                out += channel.recv(_CHUNK)
                got = True
                if len(out) > limit:
                    raise too_large()
            while channel.recv_stderr_ready():
                chunk = channel.recv_stderr(_CHUNK)
                got = True
                if len(err) < STDERR_CAP:
                    err += chunk[: STDERR_CAP - len(err)]
            if channel.eof_received or channel.closed:
                if not (channel.recv_ready() or channel.recv_stderr_ready()):
                    break
                continue
            if self._dog.fired:
                deadline_exceeded(where, self._dog)
            left = ends_at - time.monotonic()
            if left <= 0:
                self._timed_out(where, timeout)
            if not got:
                # The channel's fileno() is an "or" pipe: readable when either
                # stream has data or the channel closes.
                select.select([channel], [], [], min(left, 0.5))
        if channel.closed and not channel.exit_status_ready() and not self.transport.is_active():
            self._lost(where, EOFError("node closed the connection"))
        return bytes(out), bytes(err)

    def _timed_out(self, where: str, timeout: float) -> NoReturn:
        if self._dog.fired or self._dog.remaining() <= 0:
            deadline_exceeded(where, self._dog)
        fail(where, f"command did not finish within {timeout:g}s", ErrorClass.COMMAND_TIMEOUT)

    def close(self) -> None:
        """Close the SFTP session and the node's connection (its channel
        through a shared bastion too; the bastion stays for other nodes)."""
        self._dog.cancel()
        if self._sftp is not None:
            quietly(self._sftp.close)
        self._link.close()
        if self._after_close is not None:
            self._after_close()

    def __enter__(self) -> SshCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
