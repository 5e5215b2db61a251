"""The SSH transport: read a node's files over one authenticated connection.

``open_ssh(target)`` connects (directly, through ProxyJump bastions chained
with ``direct-tcpip`` channels, or through a ProxyCommand), verifies the host
key strictly against known_hosts and authenticates with keys; the returned
:class:`SshCollector` serves every read for that node and is closed when the
node is done.

Files are read over SFTP (no login shell, no quoting); ``sudo=True`` runs
``sudo -n cat -- <path>`` instead, which needs a NOPASSWD sudoers rule.

Every failure is a :class:`~awgcheck.errors.CollectError` whose message
starts with the node (``host`` or ``host:port``) and whose ``error_class``
is one of the stable names below. A per-node deadline is enforced by a
watchdog that closes the connection when it expires, so a node that blocks
paramiko (a tarpit, a hung sudo) cannot hold a worker forever.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

import paramiko
from paramiko.auth_handler import AuthHandler

from awgcheck.collect.base import (
    MAX_FILE_BYTES,
    CommandResult,
    file_missing,
    file_too_large,
    permission_denied,
)
from awgcheck.collect.ssh.config import (
    Endpoint,
    SshTarget,
    candidate_identity_files,
    load_ssh_config,
    parse_ssh_url,
    resolve_route,
)
from awgcheck.collect.ssh.hostkeys import fingerprint, load_known_hosts, verify_host_key
from awgcheck.collect.ssh.sftp import SftpError, SftpReader, SftpTooLarge
from awgcheck.errors import CollectError, ErrorClass

__all__ = [
    "SshCollector",
    "SshTarget",
    "open_ssh",
    "parse_ssh_url",
]

log = logging.getLogger("awgcheck.collect.ssh.connect")

# paramiko logs every transport failure at ERROR with a traceback; with no
# handler configured Python's last-resort handler would print those to
# stderr for every unreachable node. Our CollectError carries the story, so
# keep paramiko quiet unless someone has set its level on purpose.
_paramiko_log = logging.getLogger("paramiko")
_paramiko_log.addHandler(logging.NullHandler())
if _paramiko_log.level == logging.NOTSET:
    _paramiko_log.setLevel(logging.CRITICAL)

RETRIES = 3
"""Connection attempts for transient failures (sshd MaxStartups drops,
resets during the banner exchange)."""

BACKOFF = 0.25
STDERR_CAP = 64 * 1024
_CHUNK = 32768

# Fast, modern choices first: curve25519 key exchange and AES-GCM cost the
# least CPU per handshake and per byte in paramiko; everything paramiko
# supports stays available after them for older servers.
_KEX_FIRST = ("curve25519-sha256@libssh.org", "mlkem768x25519-sha256")
_CIPHERS_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr")


class _Transient(Exception):
    """A connect failure worth another attempt; wraps the final error."""

    def __init__(self, error: CollectError) -> None:
        super().__init__(str(error))
        self.error = error


class _Watchdog:
    """Closes everything registered with it when the node's deadline passes.

    paramiko blocks in places a timeout does not reach (channel requests,
    SFTP replies); closing the transport from another thread wakes them all
    with an error, which callers turn into ``deadline_exceeded``.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds
        self.fired = False
        self._closers: list[Callable[[], object]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.expires_at - time.monotonic())

    def watch(self, closer: Callable[[], object]) -> None:
        """Call ``closer`` at the deadline (at once if it already passed)."""
        with self._lock:
            fire_now = self.fired
            if not fire_now:
                self._closers.append(closer)
        if fire_now:
            _quietly(closer)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            closers, self._closers = self._closers, []
        for closer in reversed(closers):
            _quietly(closer)

    def cancel(self) -> None:
        """The node is done: forget the closers and stop the timer."""
        self._timer.cancel()
        with self._lock:
            self._closers = []


def _quietly(func: Callable[[], object]) -> None:
    try:
        func()
    except Exception:  # closing a half-dead connection may fail; nothing to do
        log.debug("close failed", exc_info=True)


def _fail(where: str, message: str, error_class: ErrorClass) -> NoReturn:
    raise CollectError(f"{where}: {message}", error_class=error_class)


# --------------------------------------------------------------------------
# connecting

def _tcp_connect(hop: Endpoint, where: str, dog: _Watchdog) -> socket.socket:
    try:
        infos = socket.getaddrinfo(hop.hostname, hop.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        _fail(where, f"cannot resolve {hop.hostname}: {exc.strerror}", ErrorClass.DNS_FAILURE)
    last: CollectError | None = None
    for family, kind, proto, _name, address in infos:
        timeout = min(hop.connect_timeout, dog.remaining())
        if timeout <= 0:
            break
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except ConnectionRefusedError:
            sock.close()
            last = CollectError(f"{where}: connection refused",
                                error_class=ErrorClass.CONNECTION_REFUSED)
            continue
        except TimeoutError:
            sock.close()
            last = CollectError(f"{where}: TCP connect timed out after {timeout:.1f}s",
                                error_class=ErrorClass.CONNECT_TIMEOUT)
            continue
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
                last = CollectError(f"{where}: {os.strerror(exc.errno)}",
                                    error_class=ErrorClass.HOST_UNREACHABLE)
                continue
            if exc.errno == errno.ECONNRESET:
                raise _Transient(CollectError(f"{where}: connection reset during connect",
                                              error_class=ErrorClass.CONNECTION_DROPPED)) from None
            raise CollectError(f"{where}: connect failed: {exc}",
                               error_class=ErrorClass.CONNECT_FAILED) from None
        # SSH is many small request/response packets; Nagle would hold each
        # one back waiting for an ACK that the peer delays.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if last is None or (last.error_class == ErrorClass.CONNECT_TIMEOUT and dog.remaining() <= 0.05):
        # The connect was cut short by the node deadline, not ConnectTimeout.
        _deadline(where, dog)
    raise last


def _channel_through(bastion: paramiko.Transport, bastion_label: str, hop: Endpoint,
                     where: str, dog: _Watchdog) -> paramiko.Channel:
    """A ``direct-tcpip`` channel from the bastion to ``hop`` (ProxyJump)."""
    try:
        return bastion.open_channel(
            "direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0),
            timeout=max(0.1, min(hop.connect_timeout, dog.remaining())),
        )
    except paramiko.ChannelException as exc:
        # OpenSSH answers "connect failed" (2) for refused, unreachable and
        # unresolvable targets alike; 1 means forwarding is forbidden.
        if exc.code == 1:
            _fail(where, f"bastion {bastion_label} refuses to forward (AllowTcpForwarding?)",
                  ErrorClass.PROXY_FAILED)
        _fail(where, f"bastion {bastion_label} could not connect to "
              f"{hop.hostname}:{hop.port}: {exc.text}", ErrorClass.CONNECTION_REFUSED)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if dog.fired:
            _deadline(where, dog)
        _fail(where, f"bastion {bastion_label} dropped the connection: {exc}",
              ErrorClass.CONNECTION_DROPPED)


def _deadline(where: str, dog: _Watchdog) -> NoReturn:
    _fail(where, f"node deadline of {dog.seconds:g}s exceeded", ErrorClass.DEADLINE_EXCEEDED)


def _security(transport: paramiko.Transport, preferred_keys: Sequence[str]) -> None:
    opts = transport.get_security_options()
    opts.kex = _prefer(opts.kex, _KEX_FIRST)
    opts.ciphers = _prefer(opts.ciphers, _CIPHERS_FIRST)
    if preferred_keys:
        # Ask for the key type known_hosts already holds, as OpenSSH does, so
        # a host with several keys is not reported "unknown" for the others.
        opts.key_types = _prefer(opts.key_types, preferred_keys)


def _prefer(available: Sequence[str], first: Sequence[str]) -> tuple[str, ...]:
    head = [name for name in first if name in available]
    return tuple(head + [name for name in available if name not in head])


def _key_algorithms(key_types: set[str]) -> list[str]:
    algos: list[str] = []
    for name in sorted(key_types):
        if name == "ssh-rsa":
            algos += ["rsa-sha2-512", "rsa-sha2-256"]
        else:
            algos.append(name)
    return algos


def _handshake(sock: socket.socket | paramiko.Channel | paramiko.ProxyCommand, hop: Endpoint,
               target: SshTarget, where: str, dog: _Watchdog) -> paramiko.Transport:
    transport = paramiko.Transport(sock)
    dog.watch(transport.close)
    known = load_known_hosts(target.known_hosts)
    _security(transport, _key_algorithms(
        {e.key.get_name() for e in known.keys_for(hop.known_hosts_name)}))
    budget = min(hop.connect_timeout, dog.remaining())
    transport.banner_timeout = budget
    started = time.monotonic()
    try:
        transport.start_client(timeout=budget)
    except paramiko.SSHException as exc:
        _quietly(transport.close)
        if dog.fired:
            _deadline(where, dog)
        _classify_handshake(exc, where, time.monotonic() - started, budget)
    except (EOFError, OSError) as exc:
        _quietly(transport.close)
        if dog.fired:
            _deadline(where, dog)
        raise _Transient(CollectError(f"{where}: connection lost during SSH handshake: {exc}",
                                      error_class=ErrorClass.CONNECTION_DROPPED)) from None
    if not transport.is_active() or transport.host_key is None:
        _quietly(transport.close)
        if dog.fired:
            _deadline(where, dog)
        _fail(where, f"SSH handshake did not complete within {budget:.1f}s",
              ErrorClass.BANNER_TIMEOUT)
    verify_host_key(where, hop.known_hosts_name, transport.get_remote_server_key(),
                    target.known_hosts, accept_new=target.accept_new_host_keys,
                    hash_names=hop.hash_known_hosts)
    return transport


def _classify_handshake(exc: paramiko.SSHException, where: str, elapsed: float,
                        budget: float) -> NoReturn:
    cause = exc.__context__
    text = str(exc)
    if "protocol banner" in text:
        if isinstance(cause, TimeoutError) or elapsed >= budget * 0.9:
            _fail(where, f"accepted TCP but sent no SSH banner within {budget:.1f}s "
                  "(tarpit, overloaded sshd or not an SSH port)", ErrorClass.BANNER_TIMEOUT)
        # EOF or reset before the banner: how sshd sheds load under
        # MaxStartups. Worth another try after a pause.
        raise _Transient(CollectError(f"{where}: connection closed before the SSH banner "
                                      "(sshd MaxStartups throttling?)",
                                      error_class=ErrorClass.CONNECTION_DROPPED))
    if isinstance(cause, (EOFError, ConnectionResetError)):
        raise _Transient(CollectError(f"{where}: connection lost during SSH handshake",
                                      error_class=ErrorClass.CONNECTION_DROPPED))
    _fail(where, f"SSH handshake failed: {text}", ErrorClass.HANDSHAKE_FAILED)


_key_cache: dict[tuple[str, int], paramiko.PKey | None] = {}
_key_lock = threading.Lock()


def _load_key(path: str) -> tuple[paramiko.PKey | None, str | None]:
    """Load a private key file once per process; (key, why-not)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        return None, f"{path}: {exc.strerror}"
    with _key_lock:
        if (path, mtime) in _key_cache:
            cached = _key_cache[(path, mtime)]
            return cached, None if cached else f"{path}: not usable"
    why: str | None = None
    key: paramiko.PKey | None = None
    try:
        key = paramiko.PKey.from_path(path)
    except (paramiko.PasswordRequiredException, TypeError):
        # paramiko's PKey.from_path lets cryptography's TypeError ("Key is
        # password-protected") through for new-format OpenSSH keys.
        why = f"{path}: encrypted (load it into ssh-agent instead)"
    except Exception as exc:  # any unusable key file: skip it, never crash the node
        # Only the exception type is reported: the message of a parser
        # error could quote key material.
        why = f"{path}: unreadable key ({type(exc).__name__})"
    with _key_lock:
        _key_cache[(path, mtime)] = key
    return key, why


def _candidate_keys(hop: Endpoint, agent: paramiko.Agent | None
                    ) -> tuple[list[tuple[str, paramiko.PKey]], list[str]]:
    keys: list[tuple[str, paramiko.PKey]] = []
    notes: list[str] = []
    for path in candidate_identity_files(hop):
        key, why = _load_key(path)
        if key is not None:
            keys.append((path, key))
        elif why:
            notes.append(why)
    if agent is not None and not hop.identities_only:
        keys += [(f"agent key {k.fingerprint}", k) for k in agent.get_keys()]
    return keys, notes


class _PipelinedAuth(AuthHandler):
    """paramiko's public-key authentication, one round trip shorter.

    paramiko sends SERVICE_REQUEST "ssh-userauth" and builds the signed
    USERAUTH_REQUEST only when SERVICE_ACCEPT comes back. Both requests only
    depend on the session id, so this handler sends them in one flight. The
    server reads packets in order and accepts the service before it reads
    the request (sshd switches to its userauth handler on the accept), so
    both replies come back in the next flight. The host key has been
    verified before this runs, as before.

    The request is still built and signed by paramiko's own code (key types,
    certificates, rsa-sha2 choice), only earlier. That code lives in two
    long-standing private methods, ``_request_auth`` and
    ``_parse_service_accept``; tests/collect/test_ssh_rtt.py fails if a
    paramiko upgrade brings the wait back or breaks the request.
    """

    def _request_auth(self) -> None:
        super()._request_auth()  # type: ignore[misc]
        accepted = paramiko.Message()
        accepted.add_string("ssh-userauth")
        accepted.rewind()
        super()._parse_service_accept(accepted)  # type: ignore[misc]

    def _parse_service_accept(self, message: paramiko.Message) -> None:
        """The request went out with the service request: nothing to send.
        A server refusing the service disconnects, which ends the wait."""


def _auth_publickey(transport: paramiko.Transport, user: str, key: paramiko.PKey) -> None:
    """``transport.auth_publickey(user, key)`` with the service request and
    the signed request in one flight (see :class:`_PipelinedAuth`).

    Two kinds of key take paramiko's plain path, one round trip longer:
    agent keys, because here the signature would be made in this thread,
    and an agent that never answers (a confirmation nobody gives) must not
    hold it past the node deadline (paramiko signs in its own thread and
    this one keeps watching the transport the watchdog closes); and an RSA
    key before the server's server-sig-algs (EXT_INFO, sent right after
    NEWKEYS) are parsed, since they pick its signature algorithm.
    """
    if isinstance(key, paramiko.AgentKey) or (
            "rsa" in key.get_name() and not getattr(transport, "server_extensions", None)):
        transport.auth_publickey(user, key)
        return
    if not transport.is_active() or not transport.initial_kex_done:
        raise paramiko.SSHException("No existing session")
    event = threading.Event()
    handler = _PipelinedAuth(transport)
    transport.auth_handler = handler
    handler.auth_publickey(user, key, event)
    handler.wait_for_response(event)


def _authenticate(transport: paramiko.Transport, hop: Endpoint, where: str,
                  dog: _Watchdog, agent: paramiko.Agent | None) -> None:
    keys, notes = _candidate_keys(hop, agent)
    transport.auth_timeout = max(0.1, dog.remaining())
    tried: list[str] = []
    for label, key in keys:
        tried.append(label)
        try:
            _auth_publickey(transport, hop.user, key)
        except paramiko.BadAuthenticationType as exc:
            _fail(where, f"server does not accept public keys for {hop.user} "
                  f"(allowed: {', '.join(exc.allowed_types) or 'none'})", ErrorClass.AUTH_FAILED)
        except paramiko.AuthenticationException:
            if not transport.is_active():
                break  # server gave up on us (MaxAuthTries)
            continue
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if dog.fired:
                _deadline(where, dog)
            _fail(where, f"connection lost during authentication: {exc}",
                  ErrorClass.CONNECTION_DROPPED)
        if transport.is_authenticated():
            return
    if dog.fired:
        _deadline(where, dog)
    detail = f"tried {', '.join(tried)}" if tried else "no usable key found"
    if notes:
        detail += f"; skipped {'; '.join(notes)}"
    _fail(where, f"authentication as {hop.user} failed ({detail})", ErrorClass.AUTH_FAILED)


def _open_agent() -> paramiko.Agent | None:
    if not os.environ.get("SSH_AUTH_SOCK"):
        return None
    try:
        return paramiko.Agent()
    except paramiko.SSHException:
        log.warning("SSH_AUTH_SOCK is set but the agent is unreachable; using key files only")
        return None


def _connect_route(route: list[Endpoint], target: SshTarget, where: str,
                   dog: _Watchdog) -> list[paramiko.Transport]:
    transports: list[paramiko.Transport] = []
    agent = _open_agent()
    try:
        for index, hop in enumerate(route):
            hop_where = where if index == len(route) - 1 else f"{where} via bastion {hop.label}"
            sock: socket.socket | paramiko.Channel | paramiko.ProxyCommand
            if transports:
                sock = _channel_through(transports[-1], route[index - 1].label, hop,
                                        hop_where, dog)
            elif hop.proxy_command:
                sock = _proxy_command(hop, hop_where)
            else:
                sock = _tcp_connect(hop, hop_where, dog)
            dog.watch(sock.close)
            try:
                transport = _handshake(sock, hop, target, hop_where, dog)
                transports.append(transport)
                _authenticate(transport, hop, hop_where, dog, agent)
            except BaseException:
                _quietly(sock.close)
                raise
    except BaseException:
        for transport in reversed(transports):
            _quietly(transport.close)
        raise
    finally:
        if agent is not None:
            agent.close()
    return transports


def _proxy_command(hop: Endpoint, where: str) -> paramiko.ProxyCommand:
    # paramiko's SSHConfig already expanded %h/%p/%r in the command.
    try:
        return paramiko.ProxyCommand(hop.proxy_command or "")
    except paramiko.ProxyCommandFailure as exc:
        _fail(where, f"ProxyCommand failed to start: {exc}", ErrorClass.PROXY_FAILED)


def open_ssh(target: SshTarget) -> SshCollector:
    """Connect to ``target`` and return a collector for all its reads.

    Raises CollectError with a stable ``error_class``. Transient failures
    (MaxStartups drops, resets during the handshake) are retried with
    backoff and jitter within the node deadline; authentication and host-key
    failures are never retried.
    """
    dog = _Watchdog(target.deadline)
    where = target.label
    try:
        route = resolve_route(target, load_ssh_config(target.ssh_config))
        where = route[-1].label if target.port is None else target.label
        warnings = load_known_hosts(target.known_hosts).warnings
        attempt = 0
        while True:
            attempt += 1
            try:
                transports = _connect_route(route, target, where, dog)
                break
            except _Transient as exc:
                pause = BACKOFF * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
                if attempt >= RETRIES or dog.fired or pause >= dog.remaining():
                    raise exc.error from None
                log.debug("%s; retrying in %.2fs", exc, pause)
                time.sleep(pause)
    except BaseException:
        dog.cancel()
        raise
    return SshCollector(target, where, transports, dog, warnings)


class SshCollector:
    """Reads files and runs commands on one SSH node (see :func:`open_ssh`)."""

    def __init__(self, target: SshTarget, label: str, transports: list[paramiko.Transport],
                 watchdog: _Watchdog, warnings: tuple[str, ...] = ()) -> None:
        self.target = target
        self.label = label
        self.warnings = warnings
        """known_hosts lines that were skipped (for the CLI to print)."""
        self._transports = transports
        self._dog = watchdog
        self._sftp: SftpReader | None = None
        self._lock = threading.Lock()

    @property
    def transport(self) -> paramiko.Transport:
        """The node's own transport (the last hop of a jump chain)."""
        return self._transports[-1]

    @property
    def host_key_fingerprint(self) -> str:
        """``SHA256:...`` of the node's host key, for reports."""
        return fingerprint(self.transport.get_remote_server_key())

    def describe(self, path: str) -> str:
        """``host:port:/path`` (``host:/path`` on port 22), as messages name it."""
        return f"{self.label}:{path}"

    # -- errors -------------------------------------------------------------

    def _lost(self, where: str, exc: BaseException) -> NoReturn:
        if self._dog.fired:
            _deadline(where, self._dog)
        _fail(where, f"connection dropped: {exc or type(exc).__name__}",
              ErrorClass.CONNECTION_DROPPED)

    # -- files --------------------------------------------------------------

    def read_file(self, path: str, *, sudo: bool = False, limit: int = MAX_FILE_BYTES) -> bytes:
        """Read ``path`` over SFTP, or with ``sudo -n cat`` when sudo is asked
        for (per call or on the target)."""
        if sudo or self.target.sudo:
            return self._read_sudo(path, limit)
        where = self.describe(path)
        if self._dog.fired:
            _deadline(where, self._dog)
        try:
            return self._sftp_reader().read(path, limit)
        except SftpTooLarge:
            raise file_too_large(where, limit) from None
        except SftpError as exc:
            if exc.errno == errno.ENOENT:
                raise file_missing(where) from None
            if exc.errno == errno.EACCES:
                raise permission_denied(where) from None
            if exc.errno == errno.EISDIR:
                _fail(where, "is a directory, not a file", ErrorClass.NOT_A_FILE)
            _fail(where, f"SFTP read failed: {exc}", ErrorClass.COLLECT_FAILED)
        except (EOFError, OSError, paramiko.SSHException) as exc:
            # The SFTP stream is in an unknown state now; never reuse it.
            self._drop_sftp()
            self._lost(where, exc)

    def _drop_sftp(self) -> None:
        with self._lock:
            if self._sftp is not None:
                _quietly(self._sftp.close)
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
        argv = ("sudo", "-n", "cat", "--", path)
        result = self._exec(argv, where, limit=limit, timeout=self._dog.remaining(),
                            too_large=lambda: file_too_large(where, limit))
        if result.exit_status == 0:
            return result.stdout
        err = result.stderr.decode("utf-8", "replace").strip()
        lowered = err.lower()
        if "password is required" in lowered or "a terminal is required" in lowered:
            _fail(where, f"sudo wants a password; needs a NOPASSWD sudoers rule for: cat {path}",
                  ErrorClass.SUDO_PASSWORD_REQUIRED)
        if "not allowed to execute" in lowered or "not in the sudoers" in lowered:
            _fail(where, f"sudo refused ({err}); needs a NOPASSWD sudoers rule for: cat {path}",
                  # sudo refusing the command outright is a permission
                  # problem, not a password one: the sudoers rule is
                  # missing rather than incomplete.
                  ErrorClass.PERMISSION_DENIED)
        if "no such file" in lowered:
            raise file_missing(where)
        if "permission denied" in lowered:
            raise permission_denied(where)
        if "is a directory" in lowered:
            _fail(where, "is a directory, not a file", ErrorClass.NOT_A_FILE)
        if result.exit_status == 127:
            _fail(where, f"sudo is not installed on the node ({err})", ErrorClass.SUDO_FAILED)
        _fail(where, f"sudo cat exited {result.exit_status}: {err[:300]}", ErrorClass.SUDO_FAILED)

    # -- commands -----------------------------------------------------------

    def run(self, argv: Sequence[str], *, sudo: bool = False, timeout: float = 30.0
            ) -> CommandResult:
        """Exec ``argv`` (each word shell-quoted) without a pty; stdout is
        capped at MAX_FILE_BYTES, stderr at 64 KiB."""
        words = tuple(argv)
        if sudo or self.target.sudo:
            words = ("sudo", "-n", "--", *words)
        where = f"{self.label}: {shlex.join(tuple(argv))[:80]}"
        result = self._exec(words, where, limit=MAX_FILE_BYTES, timeout=timeout,
                            too_large=lambda: CollectError(
                                f"{where}: output is larger than {MAX_FILE_BYTES} bytes",
                                error_class=ErrorClass.OUTPUT_TOO_LARGE))
        if words[0] == "sudo" and result.exit_status == 1 and \
                b"password is required" in result.stderr:
            # The command never ran: a CommandResult would pass sudo's
            # complaint off as the command's own output.
            _fail(where, f"sudo wants a password; needs a NOPASSWD sudoers rule for: "
                  f"{shlex.join(tuple(argv))}", ErrorClass.SUDO_PASSWORD_REQUIRED)
        return CommandResult(tuple(argv), result.exit_status, result.stdout, result.stderr)

    def _exec(self, argv: Sequence[str], where: str, *, limit: int, timeout: float,
              too_large: Callable[[], CollectError]) -> CommandResult:
        if self._dog.fired:
            _deadline(where, self._dog)
        ends_at = time.monotonic() + min(timeout, self._dog.remaining())
        try:
            channel = self.transport.open_session(timeout=max(0.1, self._dog.remaining()))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self._lost(where, exc)
        try:
            channel.exec_command(shlex.join(argv))
            channel.shutdown_write()  # no stdin: commands must not wait for it
            stdout, stderr = self._drain(channel, where, limit, ends_at, timeout, too_large)
            if not channel.status_event.wait(max(0.0, ends_at - time.monotonic())):
                self._timed_out(where, timeout)
            status = channel.exit_status
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self._lost(where, exc)
        finally:
            # After the watchdog (or the node) closed the transport, close()
            # raises EOFError; that must not replace the error in flight.
            _quietly(channel.close)
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
                _deadline(where, self._dog)
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
            _deadline(where, self._dog)
        _fail(where, f"command did not finish within {timeout:g}s", ErrorClass.COMMAND_TIMEOUT)

    def close(self) -> None:
        """Close the SFTP session and every hop, innermost first."""
        self._dog.cancel()
        if self._sftp is not None:
            _quietly(self._sftp.close)
        for transport in reversed(self._transports):
            _quietly(transport.close)

    def __enter__(self) -> SshCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

