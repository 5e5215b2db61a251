"""The SSH transport: connect to a node and hand back its collector.

``open_ssh(target)`` connects (directly, through ProxyJump bastions chained
with ``direct-tcpip`` channels, or through a ProxyCommand), verifies the host
key strictly against known_hosts (:mod:`.hostkeys`) and authenticates with
keys (:mod:`.auth`); the returned :class:`~.collector.SshCollector` serves
every read for that node and is closed when the node is done.

Every failure is a :class:`~awgcheck.errors.CollectError` whose message
starts with the node (``host`` or ``host:port``) and whose ``error_class``
is an :class:`~awgcheck.errors.ErrorClass`. A per-node deadline is enforced
by a watchdog (:mod:`.watchdog`) that closes the connection when it
expires, so a node that blocks paramiko (a tarpit, a hung sudo) cannot hold
a worker forever.
"""

from __future__ import annotations

import errno
import logging
import os
import random
import shlex
import socket
import time
from collections.abc import Sequence
from typing import NoReturn

import paramiko

from awgcheck.collect.base import ConnectOptions
from awgcheck.collect.ssh.auth import authenticate, open_agent
from awgcheck.collect.ssh.collector import SshCollector
from awgcheck.collect.ssh.config import (
    Endpoint,
    SshTarget,
    load_ssh_config,
    parse_ssh_url,
    resolve_route,
    target_of,
)
from awgcheck.collect.ssh.hostkeys import Peer, load_known_hosts, verify_host_key
from awgcheck.collect.ssh.watchdog import (
    Watchdog,
    deadline_exceeded,
    fail,
    not_utf8,
    quietly,
)
from awgcheck.errors import CollectError, ErrorClass
from awgcheck.inventory import Node

__all__ = [
    "SshCollector",
    "SshTarget",
    "open_ssh",
    "open_ssh_node",
    "parse_ssh_url",
]

log = logging.getLogger(__name__)

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

_QUOTE_CAP = 200
"""Characters of a paramiko handshake error (it may quote the server's
banner line) kept in the node's error message."""

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


# --------------------------------------------------------------------------
# connecting

def _tcp_connect(hop: Endpoint, where: str, dog: Watchdog) -> socket.socket:
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
        deadline_exceeded(where, dog)
    raise last


def _channel_through(bastion: paramiko.Transport, bastion_label: str, hop: Endpoint,
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
               target: SshTarget, peer: Peer, where: str, dog: Watchdog) -> paramiko.Transport:
    transport = paramiko.Transport(sock)
    dog.watch(transport.close)
    _security(transport, _key_algorithms(
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
        _classify_handshake(exc, where, time.monotonic() - started, budget)
    except (EOFError, OSError) as exc:
        quietly(transport.close)
        if dog.fired:
            deadline_exceeded(where, dog)
        raise _Transient(CollectError(f"{where}: connection lost during SSH handshake: {exc}",
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
    verify_host_key(where, hop.known_hosts_name, transport.get_remote_server_key(),
                    hop.known_hosts, global_files=hop.global_known_hosts,
                    accept_new=target.accept_new_host_keys,
                    hash_names=hop.hash_known_hosts, peer=peer)
    return transport


def _peer(route: list[Endpoint], index: int, target: SshTarget) -> Peer:
    """Who route[index] is, for host-key messages."""
    hop = route[index]
    before = ",".join(h.spec for h in route[:index]) or None
    config = target.ssh_config if target.ssh_config not in (None, "none") else None
    role = "node" if index == len(route) - 1 else "bastion"
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
        raise _Transient(CollectError(f"{where}: connection closed before the SSH banner "
                                      "(sshd MaxStartups throttling?)",
                                      error_class=ErrorClass.CONNECTION_DROPPED))
    if isinstance(cause, (EOFError, ConnectionResetError)):
        raise _Transient(CollectError(f"{where}: connection lost during SSH handshake",
                                      error_class=ErrorClass.CONNECTION_DROPPED))
    fail(where, f"SSH handshake failed: {text}", ErrorClass.HANDSHAKE_FAILED)


def _connect_route(route: list[Endpoint], target: SshTarget, where: str,
                   dog: Watchdog) -> list[paramiko.Transport]:
    transports: list[paramiko.Transport] = []
    agent = open_agent()
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
                transport = _handshake(sock, hop, target, _peer(route, index, target),
                                       hop_where, dog)
                transports.append(transport)
                authenticate(transport, hop, hop_where, dog, agent)
            except BaseException:
                quietly(sock.close)
                raise
    except BaseException:
        for transport in reversed(transports):
            quietly(transport.close)
        raise
    finally:
        if agent is not None:
            agent.close()
    return transports


def _proxy_command(hop: Endpoint, where: str) -> paramiko.ProxyCommand:
    # As ssh does: the expanded ``exec <command>`` (config.py) run by the
    # user's shell, so pipes and quoting in ProxyCommand mean what they mean
    # to ssh. paramiko splits its argument with shlex, hence the join.
    shell = os.environ.get("SHELL") or "/bin/sh"
    try:
        return paramiko.ProxyCommand(shlex.join([shell, "-c", hop.proxy_command or ""]))
    except paramiko.ProxyCommandFailure as exc:
        fail(where, f"ProxyCommand failed to start: {exc}", ErrorClass.PROXY_FAILED)


def open_ssh(target: SshTarget) -> SshCollector:
    """Connect to ``target`` and return a collector for all its reads.

    Raises CollectError with a stable ``error_class``. Transient failures
    (MaxStartups drops, resets during the handshake) are retried with
    backoff and jitter within the node deadline; authentication and host-key
    failures are never retried.
    """
    dog = Watchdog(target.deadline, target.expires_at)
    where = target.label
    try:
        route = resolve_route(target, load_ssh_config(target.ssh_config))
        where = route[-1].label if target.port is None else target.label
        # An unreadable known_hosts is reported as such before any connect,
        # not as whatever the first hop's connection happens to hit.
        for hop in route:
            for path in hop.known_hosts_files:
                load_known_hosts(path)
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
    return SshCollector(target, where, transports, dog, route[-1].user)


def open_ssh_node(node: Node, options: ConnectOptions) -> SshCollector:
    """:func:`open_ssh` for an inventory node (``host:``): the transport
    ``awgcheck.collect.transports.TRANSPORTS`` names "ssh"."""
    return open_ssh(target_of(node, options))
