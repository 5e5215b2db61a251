"""The SSH transport: connect to a node and hand back its collector.

``open_ssh(target)`` connects (directly, through ProxyJump bastions, or
through a ProxyCommand), verifies the host key strictly against
known_hosts (:mod:`.hostkeys`) and authenticates with keys (:mod:`.auth`);
each hop is opened by :mod:`.hop`. Bastions come from the run's
:class:`~.jumps.BastionPool`, so the nodes behind one bastion share one
connection to it, each over its own ``direct-tcpip`` channel. The returned
:class:`~.collector.SshCollector` serves every read for that node and is
closed when the node is done.

Every failure is a :class:`~awgcheck.errors.CollectError` whose message
starts with the node (``host`` or ``host:port``) and whose ``error_class``
is an :class:`~awgcheck.errors.ErrorClass`. A per-node deadline is enforced
by a watchdog (:mod:`.watchdog`) that closes the node's connection when it
expires, so a node that blocks paramiko (a tarpit, a hung sudo) cannot hold
a worker forever.
"""

from __future__ import annotations

import functools
import logging

from awgcheck.collect.base import ConnectOptions, Remote
from awgcheck.collect.ssh.collector import Link, SshCollector
from awgcheck.collect.ssh.config import (
    Endpoint,
    SshTarget,
    load_ssh_config,
    parse_ssh_url,
    resolve_route,
    target_of,
)
from awgcheck.collect.ssh.hop import (
    Transient,
    Tunnel,
    open_hop,
    proxy_command,
    tcp_connect,
    with_retries,
)
from awgcheck.collect.ssh.hostkeys import load_known_hosts
from awgcheck.collect.ssh.jumps import DEFAULT_CHANNELS, BastionPool
from awgcheck.collect.ssh.watchdog import Watchdog
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


_BASTION_LOSS = (ErrorClass.CONNECTION_DROPPED, ErrorClass.AUTH_FAILED,
                 ErrorClass.HANDSHAKE_FAILED)
"""How a node's handshake fails when the bastion under it goes away (paramiko
reports a connection lost during authentication as a refused key)."""


def _link(route: list[Endpoint], target: SshTarget, where: str, dog: Watchdog,
          bastions: BastionPool | None) -> Link:
    """The node's connection: straight to it, or over a channel of the
    shared bastion (which the pool re-establishes if it dropped)."""
    node = len(route) - 1
    if node == 0:
        def direct() -> Link:
            hop = route[0]
            sock = (proxy_command(hop, where) if hop.proxy_command
                    else tcp_connect(hop, where, dog))
            return Link(open_hop(sock, route, 0, target, where, dog))

        return with_retries(direct, dog)
    assert bastions is not None

    def through() -> Link:
        lease = bastions.lease(route[:-1], route[-1], target, where, dog)
        try:
            return Link(open_hop(Tunnel(lease.channel), route, node, target, where, dog),
                        lease)
        except (CollectError, Transient) as exc:
            lease.release()
            error = exc.error if isinstance(exc, Transient) else exc
            if error.error_class not in _BASTION_LOSS or dog.fired or not lease.dropped():
                raise
            # The bastion went down under the handshake, not the node:
            # another attempt re-establishes it first.
            raise Transient(error) from None
        except BaseException:
            lease.release()
            raise

    return with_retries(through, dog)


def open_ssh(target: SshTarget, bastions: BastionPool | None = None) -> SshCollector:
    """Connect to ``target`` and return a collector for all its reads.

    Raises CollectError with a stable ``error_class``. Transient failures
    (MaxStartups drops, resets during the handshake) are retried with
    backoff and jitter within the node deadline; authentication and host-key
    failures are never retried. ``bastions`` is the run's pool; without
    one, the node's bastions are its own and closed with it.
    """
    dog = Watchdog(target.deadline, target.expires_at)
    where = target.label
    own: BastionPool | None = None
    try:
        route = resolve_route(target, load_ssh_config(target.ssh_config))
        where = route[-1].label if target.port is None else target.label
        # An unreadable known_hosts is reported as such before any connect,
        # not as whatever the first hop's connection happens to hit.
        for hop in route:
            for path in hop.known_hosts_files:
                load_known_hosts(path)
        if bastions is None and len(route) > 1:
            bastions = own = BastionPool()
        connect = functools.partial(_link, route, target, where, dog, bastions)
        link = connect()
    except BaseException:
        dog.cancel()
        if own is not None:
            own.close()
        raise
    # The node as messages name it (``where``): host and port apart.
    remote = (Remote(route[-1].alias, route[-1].port) if target.port is None
              else Remote(target.host, target.port))
    return SshCollector(target, remote, link, dog, route[-1].user,
                        reconnect=connect if link.lease is not None else None,
                        after_close=own.close if own is not None else None)


def open_ssh_node(node: Node, options: ConnectOptions) -> SshCollector:
    """:func:`open_ssh` for an inventory node (``host:``): the transport
    ``awgcheck.collect.transports.TRANSPORTS`` names "ssh". Its bastions
    are the run's (``options.scope``), shared with the other nodes."""
    bastions = None
    if options.scope is not None:
        channels = options.bastion_channels or DEFAULT_CHANNELS
        bastions = options.scope.part(BastionPool, lambda: BastionPool(channels))
    return open_ssh(target_of(node, options), bastions)
