"""One SSH hop: reach it, handshake, verify its host key, authenticate.

A hop is reached over TCP, through a ProxyCommand (the first hop only), or
over a ``direct-tcpip`` channel of the hop before it (ProxyJump). Both the
node (:mod:`.connect`) and the bastions the run shares (:mod:`.jumps`) are
opened here, so a hop fails the same way whoever opens it: a
:class:`~awgcheck.errors.CollectError` that starts with ``where`` and
carries an :class:`~awgcheck.errors.ErrorClass`. Failures worth another
attempt (sshd's MaxStartups drops, resets during the handshake) are
:class:`Transient`, retried by :func:`with_retries`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import select
import shlex
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar, cast

import paramiko

from awgcheck.collect.ssh.auth import authenticate, open_agent
from awgcheck.collect.ssh.config import Endpoint, SshTarget
from awgcheck.collect.ssh.hostkeys import Peer, load_known_hosts, verify_host_key
from awgcheck.collect.ssh.watchdog import (
    Watchdog,
    deadline_exceeded,
    fail,
    not_utf8,
    quietly,
)
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.secrecy import scrub

log = logging.getLogger(__name__)

RETRIES = 3
"""Connection attempts for transient failures (sshd MaxStartups drops,
resets during the banner exchange)."""

BACKOFF = 0.25

_QUOTE_CAP = 200
"""Characters of a paramiko handshake error (it may quote the server's
banner line) kept in the node's error message."""

# Fast, modern choices first: curve25519 key exchange and AES-GCM cost the
# least CPU per handshake and per byte in paramiko; everything paramiko
# supports stays available after them for older servers.
_KEX_FIRST = ("curve25519-sha256@libssh.org", "mlkem768x25519-sha256")
_CIPHERS_FIRST = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr")



class Tunnel:
    """A ``direct-tcpip`` channel as the socket of the hop behind it.

    paramiko's transport thread closes its socket on the way out, and a
    channel's close sends a message over the bastion's connection: when
    that connection is the reason the thread is ending, the send fails and
    the thread would die with a traceback on stderr. Everything but
    :meth:`close` is the channel's own.
    """

    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)

    def close(self) -> None:
        quietly(self.channel.close)


Sock = socket.socket | paramiko.Channel | paramiko.ProxyCommand | Tunnel
T = TypeVar("T")


class Transient(Exception):
    """A connect failure worth another attempt; wraps the final error."""

    def __init__(self, error: CollectError) -> None:
        super().__init__(str(error))
        self.error = error


def with_retries(attempt: Callable[[], T], dog: Watchdog) -> T:
    """``attempt()``, again after a pause with backoff and jitter while it
    fails :class:`Transient` and the deadline leaves room (at most
    :data:`RETRIES` attempts); authentication and host-key failures are
    never retried."""
    tries = 0
    while True:
        tries += 1
        try:
            return attempt()
        except Transient as exc:
            pause = BACKOFF * 2 ** (tries - 1) * random.uniform(0.5, 1.5)
            if tries >= RETRIES or dog.fired or pause >= dog.remaining():
                raise exc.error from None
            log.debug("%s; retrying in %.2fs", exc, pause)
            time.sleep(pause)


# --------------------------------------------------------------------------
# reaching the hop


def tcp_connect(hop: Endpoint, where: str, dog: Watchdog) -> socket.socket:
    """A TCP connection to ``hop``, within its ConnectTimeout and the deadline."""
    try:
        infos = socket.getaddrinfo(hop.hostname, hop.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(where, f"cannot resolve {hop.hostname}: {exc.strerror}", ErrorClass.DNS_FAILURE)
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
                raise Transient(CollectError(f"{where}: connection reset during connect",
                                             error_class=ErrorClass.CONNECTION_DROPPED)) from None
            raise CollectError(f"{where}: connect failed: {exc}",
                               error_class=ErrorClass.CONNECT_FAILED) from None
        # SSH is many small request/response packets; Nagle would hold each
        # one back waiting for an ACK that the peer delays.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if last is None or (last.error_class == ErrorClass.CONNECT_TIMEOUT and dog.remaining() <= 0.05):
        # The connect was cut short by the node deadline, not ConnectTimeout.
        deadline_exceeded(where, dog)
    raise last


def channel_through(bastion: paramiko.Transport, bastion_label: str, hop: Endpoint,
                    where: str, dog: Watchdog) -> paramiko.Channel:
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
            fail(where, f"bastion {bastion_label} refuses to forward (AllowTcpForwarding?)",
                 ErrorClass.PROXY_FAILED)
        fail(where, f"bastion {bastion_label} could not connect to "
             f"{hop.hostname}:{hop.port}: {exc.text}", ErrorClass.CONNECTION_REFUSED)
    except (paramiko.SSHException, EOFError, OSError, UnicodeDecodeError) as exc:
        if dog.fired:
            deadline_exceeded(where, dog)
        fail(where, f"bastion {bastion_label} dropped the connection: {exc}",
             ErrorClass.CONNECTION_DROPPED)


class PolledProxyCommand(paramiko.ProxyCommand):
    """paramiko's ProxyCommand, waiting for output with ``poll(2)``.

    paramiko waits with ``select(2)``, which refuses a file descriptor of
    1,024 or more ("filedescriptor out of range in select()"): a run with
    that many files open (a raised ``ulimit -n`` and a high
    ``--concurrency``) failed every ProxyCommand node it started late.
    """

    stopped_by_us = False
    """Whether :meth:`close` ended a command that was still running: its
    end is then ours (a failed handshake closes the transport, and so the
    command), not the proxy's failure."""

    def close(self) -> None:
        if self.process.poll() is None:
            self.stopped_by_us = True
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()

    def recv(self, size: int) -> bytes:
        stdout = self.process.stdout
        assert stdout is not None  # paramiko starts the command with a pipe
        poller = select.poll()
        poller.register(stdout.fileno(), select.POLLIN)
        buffer = b""
        start = time.monotonic()
        try:
            while len(buffer) < size:
                wait_ms = None
                if self.timeout is not None:
                    left = self.timeout - (time.monotonic() - start)
                    if left <= 0:
                        raise TimeoutError
                    wait_ms = max(1, int(left * 1000))
                if poller.poll(wait_ms):
                    chunk = os.read(stdout.fileno(), size - len(buffer))
                    if not chunk:  # the command ended: what it wrote is all
                        return buffer
                    buffer += chunk
            return buffer
        except TimeoutError:
            if buffer:  # as paramiko: a partial read is returned, not lost
                return buffer
            raise
        except OSError as exc:
            raise paramiko.ProxyCommandFailure(" ".join(self.cmd),
                                               exc.strerror or str(exc)) from exc

    def ended(self) -> str | None:
        """How the command ended ("exited with status 1, saying: ..."), or
        None while it runs. Only what it already wrote to stderr is read,
        so a child that keeps stderr open cannot hold this up."""
        status = self.process.poll()
        if status is None or self.stopped_by_us:
            return None
        said = b""
        stderr = self.process.stderr
        if stderr is not None:
            poller = select.poll()
            poller.register(stderr.fileno(), select.POLLIN)
            if poller.poll(0):
                said = os.read(stderr.fileno(), STDERR_SHOWN)
        how = f"exited with status {status}" if status >= 0 else f"was killed by signal {-status}"
        text = scrub(said.decode("utf-8", "replace")).strip()  # a tool's stderr
        return f"{how}, saying: {text}" if text else how


STDERR_SHOWN = 200
"""Bytes of a ProxyCommand's stderr quoted when it ends early."""


def proxy_ended(sock: Sock, where: str) -> None:
    """Raise ``proxy_failed`` when ``sock`` is a ProxyCommand that has
    ended: that, not the SSH error it caused, is what the operator fixes."""
    if isinstance(sock, PolledProxyCommand) and (how := sock.ended()) is not None:
        fail(where, f"ProxyCommand {how}", ErrorClass.PROXY_FAILED)


def proxy_command(hop: Endpoint, where: str) -> paramiko.ProxyCommand:
    """The hop's ProxyCommand, started."""
    # As ssh does: the expanded ``exec <command>`` (config.py) run by the
    # user's shell, so pipes and quoting in ProxyCommand mean what they mean
    # to ssh. paramiko splits its argument with shlex, hence the join.
    shell = os.environ.get("SHELL") or "/bin/sh"
    try:
        return PolledProxyCommand(shlex.join([shell, "-c", hop.proxy_command or ""]))
    except paramiko.ProxyCommandFailure as exc:
        fail(where, f"ProxyCommand failed to start: {exc}", ErrorClass.PROXY_FAILED)


# --------------------------------------------------------------------------
# the SSH layer


def open_hop(sock: Sock, route: Sequence[Endpoint], index: int, target: SshTarget,
             where: str, dog: Watchdog, *, bastion: bool = False) -> paramiko.Transport:
    """Handshake with ``route[index]`` (a ``bastion``, or the node) over
    ``sock``, verify its host key and authenticate; the socket is closed
    when this fails."""
    dog.watch(sock.close)
    agent = open_agent()
    try:
        who = peer(route, index, target, bastion=bastion)
        transport = handshake(sock, route[index], target, who, where, dog)
        try:
            authenticate(transport, route[index], where, dog, agent)
        except BaseException:
            quietly(transport.close)
            raise
        return transport
    except BaseException:
        quietly(sock.close)
        raise
    finally:
        if agent is not None:
            agent.close()


def choose_algorithms(transport: paramiko.Transport, preferred_keys: Sequence[str] = ()) -> None:
    """Key exchange, cipher and host key type in awgcheck's order of
    preference (docs/performance.md, "Key exchange and cipher")."""
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


def handshake(sock: Sock, hop: Endpoint, target: SshTarget, who: Peer, where: str,
              dog: Watchdog) -> paramiko.Transport:
    """The SSH handshake with ``hop`` over ``sock``, its host key verified
    strictly against known_hosts (``who`` says whose key it is)."""
    # paramiko uses any object that makes the socket calls it makes; its
    # type hints name only the kinds it ships.
    transport = paramiko.Transport(cast(paramiko.Channel, sock) if isinstance(sock, Tunnel)
                                   else sock)
    dog.watch(transport.close)
    choose_algorithms(transport, _key_algorithms(
        {e.key.get_name() for path in hop.known_hosts_files
         for e in load_known_hosts(path).keys_for(hop.known_hosts_name)}))
    budget = min(hop.connect_timeout, dog.remaining())
    transport.banner_timeout = budget
    started = time.monotonic()
    try:
        transport.start_client(timeout=budget)
    except paramiko.SSHException as exc:
        quietly(transport.close)
        if dog.fired:
            deadline_exceeded(where, dog)
        proxy_ended(sock, where)
        _classify_handshake(exc, where, time.monotonic() - started, budget)
    except (EOFError, OSError) as exc:
        quietly(transport.close)
        if dog.fired:
            deadline_exceeded(where, dog)
        proxy_ended(sock, where)
        raise Transient(CollectError(f"{where}: connection lost during SSH handshake: {exc}",
                                     error_class=ErrorClass.CONNECTION_DROPPED)) from None
    except UnicodeDecodeError:
        quietly(transport.close)
        not_utf8(where, "handshake")
    if not transport.is_active() or transport.host_key is None:
        quietly(transport.close)
        if dog.fired:
            deadline_exceeded(where, dog)
        fail(where, f"SSH handshake did not complete within {budget:.1f}s",
             ErrorClass.BANNER_TIMEOUT)
    try:
        verify_host_key(where, hop.known_hosts_name, transport.get_remote_server_key(),
                        hop.known_hosts, global_files=hop.global_known_hosts,
                        accept_new=target.accept_new_host_keys,
                        hash_names=hop.hash_known_hosts, peer=who)
    except BaseException:
        quietly(transport.close)
        raise
    return transport


def peer(route: Sequence[Endpoint], index: int, target: SshTarget, *, bastion: bool) -> Peer:
    """Who route[index] is, for host-key messages."""
    hop = route[index]
    before = ",".join(h.spec for h in route[:index]) or None
    config = target.ssh_config if target.ssh_config not in (None, "none") else None
    role = "bastion" if bastion else "node"
    return Peer(role, hop.label, hop.alias, hop.hostname, hop.port, hop.user, before, config,
                proxied=index == 0 and hop.proxy_command is not None)


def _classify_handshake(exc: paramiko.SSHException, where: str, elapsed: float,
                        budget: float) -> NoReturn:
    cause = exc.__context__
    # paramiko's message may quote the server's banner line, which has no
    # length limit: a hostile server's megabyte line stays out of reports.
    text = str(exc)
    if len(text) > _QUOTE_CAP:
        text = text[:_QUOTE_CAP] + "..."
    if isinstance(cause, UnicodeDecodeError):
        # Not a load-shedding sshd (nothing to retry): a banner of bytes.
        not_utf8(where, "handshake")
    if "protocol banner" in text:
        if isinstance(cause, TimeoutError) or elapsed >= budget * 0.9:
            fail(where, f"accepted TCP but sent no SSH banner within {budget:.1f}s "
                 "(tarpit, overloaded sshd or not an SSH port)", ErrorClass.BANNER_TIMEOUT)
        # EOF or reset before the banner: how sshd sheds load under
        # MaxStartups. Worth another try after a pause.
        raise Transient(CollectError(f"{where}: connection closed before the SSH banner "
                                     "(sshd MaxStartups throttling?)",
                                     error_class=ErrorClass.CONNECTION_DROPPED))
    if isinstance(cause, (EOFError, ConnectionResetError)):
        raise Transient(CollectError(f"{where}: connection lost during SSH handshake",
                                     error_class=ErrorClass.CONNECTION_DROPPED))
    fail(where, f"SSH handshake failed: {text}", ErrorClass.HANDSHAKE_FAILED)
