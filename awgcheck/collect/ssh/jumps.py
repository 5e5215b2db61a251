"""One connection per bastion for a whole run, as OpenSSH's ControlMaster.

Without sharing, every node behind a ProxyJump bastion opens its own
connection to it (TCP, key exchange, authentication) before its
``direct-tcpip`` channel: a fleet behind one stock bastion pays that
handshake hundreds of times, and sshd's ``MaxStartups 10:30:100`` drops
connections once more than ten are unauthenticated at once.

A :class:`BastionPool` keeps one authenticated transport per bastion,
keyed by the whole resolved chain up to it (host, port, user, keys,
known_hosts, the hops before it), and every node behind it opens its
channel over that transport. In detail:

* The first node that needs a bastion opens it, within its own deadline;
  the others wait for that opening, each within its own deadline. The
  bastion's host key is verified once per connection, and a failure
  (unknown or changed host key, refused authentication, no route) is
  kept for the run: every node behind the bastion reports it, naming the
  bastion, and none of them tries again. Only the opener's deadline
  running out, or a connection lost during the handshake, lets the next
  node try again.
* A chain ``a,b`` shares each prefix: ``b`` is reached over a channel of
  the shared ``a``.
* A bastion connection that drops is re-established once per run (the
  nodes whose channel it carried retry once, see
  :class:`~.collector.SshCollector`); a second drop is reported
  (``connection_dropped``) for every node still behind it.
* At most ``channels`` channels are open through one bastion at a time; a
  node waits for a free one within its deadline. OpenSSH's sshd counts
  only session channels against ``MaxSessions`` (``session.c``);
  ``direct-tcpip`` channels have no per-connection limit there below the
  16,384 channels after which it drops the connection (``channels.c``).
  What a forwarded channel costs the bastion is one socket in the
  connection's sshd process (1,024 open files by default under systemd)
  and its buffers, so :data:`DEFAULT_CHANNELS` leaves that plenty of room
  while matching the most nodes a run reads at once by default.
* A bastion nobody uses stays open for nodes that come later; past
  :data:`IDLE_KEPT` idle bastions the least recently used is closed, so a
  fleet with many bastions does not hold a connection to each.

The pool belongs to one run (:class:`~awgcheck.collect.scope.RunScope`)
and :meth:`BastionPool.close` closes every connection when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import paramiko

from awgcheck.collect.ssh.config import Endpoint, SshTarget
from awgcheck.collect.ssh.hop import (
    Sock,
    Tunnel,
    channel_through,
    open_hop,
    proxy_command,
    tcp_connect,
    with_retries,
)
from awgcheck.collect.ssh.watchdog import Watchdog, deadline_exceeded, fail, quietly
from awgcheck.concurrency import BASTION_CHANNELS
from awgcheck.errors import CollectError, ErrorClass

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = BASTION_CHANNELS
"""Channels open through one bastion at a time unless the run says
otherwise (``--bastion-channels``); see the module docstring for why."""

IDLE_KEPT = 16
"""Bastions kept open while no node uses them."""

_RETRYABLE = (ErrorClass.DEADLINE_EXCEEDED, ErrorClass.CONNECTION_DROPPED)
"""Opening failures that say nothing lasting about the bastion: the next
node behind it tries again instead of inheriting them."""

_DEATH_WAIT = 1.0
"""Seconds to let a bastion transport that lost a channel finish dying
before it is judged alive after all."""

_Key = tuple[tuple[Endpoint, ...], bool, str | None]


@dataclass(frozen=True)
class _Failure:
    """Why a bastion could not be opened, without the node that found out."""

    text: str
    error_class: ErrorClass

    @classmethod
    def of(cls, error: CollectError, where: str) -> _Failure | None:
        """The lasting part of ``error``, if it is about the bastion that
        ``where`` names (not one before it, which keeps its own)."""
        text = str(error)
        if error.error_class in _RETRYABLE or not text.startswith(f"{where}: "):
            return None
        return cls(text.removeprefix(f"{where}: "), error.error_class)

    def raise_for(self, where: str) -> NoReturn:
        fail(where, self.text, self.error_class)


class _Bastion:
    """One shared bastion connection and the nodes behind it."""

    def __init__(self, key: _Key, route: tuple[Endpoint, ...], channels: int) -> None:
        self.key = key
        self.route = route  # the hops up to and including this bastion
        self.channels = channels
        self.cond = threading.Condition()
        self.transport: paramiko.Transport | None = None
        self.parent: Lease | None = None  # its channel through the hop before, if any
        self.generation = 0  # connections opened so far
        self.opening = False
        self.failure: _Failure | None = None
        self.closed = False
        self.slots = threading.BoundedSemaphore(channels)
        self.users = 0  # nodes holding or waiting for it (guarded by the pool's lock)
        self.last_used = time.monotonic()

    @property
    def label(self) -> str:
        return self.route[-1].label

    def shut(self) -> None:
        """Close the connection (and give back its channel on the hop before)."""
        with self.cond:
            self.closed = True
            transport, self.transport = self.transport, None
            parent, self.parent = self.parent, None
            self.cond.notify_all()
        if transport is not None:
            quietly(transport.close)
        if parent is not None:
            parent.release()


class Lease:
    """One node's ``direct-tcpip`` channel through a shared bastion, held
    until the node is done (:meth:`release`)."""

    def __init__(self, pool: BastionPool, bastion: _Bastion, transport: paramiko.Transport,
                 channel: paramiko.Channel) -> None:
        self._pool = pool
        self._bastion = bastion
        self._transport = transport
        self.channel = channel
        self._released = False
        self._lock = threading.Lock()

    def dropped(self) -> bool:
        """Whether the bastion connection under this channel is gone, rather
        than the node behind it (asked once the node's connection broke).

        When the node's side ends, the bastion says so (EOF on the channel)
        over a live connection. Otherwise the bastion's transport is dying:
        it closes its channels before it marks itself inactive, so it gets
        a moment to finish.
        """
        if self.channel.eof_received:
            return False
        self._transport.join(_DEATH_WAIT)
        return not self._transport.is_active()

    def release(self) -> None:
        """Close the channel and free its slot (once; later calls do nothing)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        quietly(self.channel.close)
        self._bastion.slots.release()
        self._pool._leave(self._bastion)


class BastionPool:
    """The run's shared bastion connections (see the module docstring).
    Thread-safe; :meth:`close` ends them all."""

    def __init__(self, channels: int = DEFAULT_CHANNELS) -> None:
        if channels < 1:
            raise ValueError("a bastion needs at least one channel")
        self.channels = channels
        self._bastions: dict[_Key, _Bastion] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- leasing ------------------------------------------------------------

    def lease(self, bastions: Sequence[Endpoint], to: Endpoint, target: SshTarget,
              node: str, dog: Watchdog, *, where: str | None = None) -> Lease:
        """A channel to ``to`` through ``bastions`` (outermost first), the
        last of them opened or reused as needed, within ``dog``'s deadline.

        ``node`` names the node for messages about a bastion (``node via
        bastion b: ...``); ``where`` is what a failure of the channel itself
        is reported against (the node by default). A bastion connection
        found dead is re-established, once per run.
        """
        bastion = self._enter(bastions, target, node)
        try:
            return self._lease(bastion, to, target, node, dog, where or node)
        except BaseException:
            self._leave(bastion)
            raise

    def _lease(self, bastion: _Bastion, to: Endpoint, target: SshTarget, node: str,
               dog: Watchdog, where: str) -> Lease:
        for attempt in (1, 2):
            transport = self._ready(bastion, target, node, dog)
            self._take_slot(bastion, node, dog)
            try:
                channel = channel_through(transport, bastion.label, to, where, dog)
            except CollectError as exc:
                bastion.slots.release()
                if exc.error_class is not ErrorClass.CONNECTION_DROPPED or attempt == 2 \
                        or dog.fired:
                    raise
                # Dying, most likely: let it finish, then open it again.
                transport.join(min(_DEATH_WAIT, dog.remaining()))
                continue
            dog.watch(channel.close)
            return Lease(self, bastion, transport, channel)
        raise AssertionError("unreachable")  # pragma: no cover

    def _take_slot(self, bastion: _Bastion, node: str, dog: Watchdog) -> None:
        if bastion.slots.acquire(timeout=dog.remaining()):
            return
        # The whole wait was for a channel, whether the watchdog or the
        # acquire's timeout noticed the deadline first: say what it was spent on.
        fail(node, f"no free channel on bastion {bastion.label} within the node deadline of "
             f"{dog.seconds:g}s ({bastion.channels} in use; see --bastion-channels)",
             ErrorClass.DEADLINE_EXCEEDED)

    def _enter(self, bastions: Sequence[Endpoint], target: SshTarget, node: str) -> _Bastion:
        route = tuple(bastions)
        key: _Key = (route, target.accept_new_host_keys, target.ssh_config)
        with self._lock:
            if self._closed:
                fail(f"{node} via bastion {route[-1].label}", "the run has ended",
                     ErrorClass.DEADLINE_EXCEEDED)
            bastion = self._bastions.get(key)
            if bastion is None:
                bastion = self._bastions[key] = _Bastion(key, route, self.channels)
            bastion.users += 1
            return bastion

    def _leave(self, bastion: _Bastion) -> None:
        with self._lock:
            bastion.users -= 1
            bastion.last_used = time.monotonic()
            idle = [b for b in self._bastions.values()
                    if b.users == 0 and b.transport is not None]
            evicted = sorted(idle, key=lambda b: b.last_used)[:max(0, len(idle) - IDLE_KEPT)]
            for victim in evicted:
                del self._bastions[victim.key]
        for victim in evicted:
            victim.shut()

    # -- opening ------------------------------------------------------------

    def _ready(self, bastion: _Bastion, target: SshTarget, node: str,
               dog: Watchdog) -> paramiko.Transport:
        """The bastion's live transport, opened by this node when nobody
        has (or re-established after a drop)."""
        where = f"{node} via bastion {bastion.label}"
        with bastion.cond:
            while True:
                if bastion.failure is not None:
                    bastion.failure.raise_for(where)
                if bastion.closed:
                    fail(where, "the run has ended", ErrorClass.DEADLINE_EXCEEDED)
                if bastion.transport is not None:
                    if bastion.transport.is_active():
                        return bastion.transport
                    self._lost(bastion)
                    continue
                if not bastion.opening:
                    bastion.opening = True
                    break
                bastion.cond.wait(dog.remaining())
                if dog.remaining() <= 0:
                    deadline_exceeded(where, dog)
        return self._open(bastion, target, node, where, dog)

    def _lost(self, bastion: _Bastion) -> None:
        """The bastion's connection died (caller holds its lock): forget it,
        and allow one re-establishment per run."""
        dead, bastion.transport = bastion.transport, None
        parent, bastion.parent = bastion.parent, None
        if dead is not None:
            quietly(dead.close)
        if parent is not None:
            # Locks are only ever taken from a bastion towards the hop
            # before it, so releasing under this one cannot deadlock.
            parent.release()
        if bastion.generation >= 2:
            bastion.failure = _Failure(
                f"bastion {bastion.label} dropped the connection again after it was "
                "re-established once", ErrorClass.CONNECTION_DROPPED)
        else:
            log.warning("bastion %s dropped the connection; re-establishing it once",
                        bastion.label)

    def _open(self, bastion: _Bastion, target: SshTarget, node: str, where: str,
              dog: Watchdog) -> paramiko.Transport:
        parent: list[Lease] = []
        try:
            transport = self._connect(bastion, target, node, where, dog, parent)
        except BaseException as exc:
            with bastion.cond:
                bastion.opening = False
                if isinstance(exc, CollectError):
                    bastion.failure = _Failure.of(exc, where)
                bastion.cond.notify_all()
            raise
        with bastion.cond:
            bastion.opening = False
            bastion.cond.notify_all()
            if not bastion.closed:
                bastion.transport = transport
                bastion.parent = parent[0] if parent else None
                bastion.generation += 1
                return transport
        # The run ended while this (abandoned) node was opening it.
        quietly(transport.close)
        for lease in parent:
            lease.release()
        fail(where, "the run has ended", ErrorClass.DEADLINE_EXCEEDED)

    def _connect(self, bastion: _Bastion, target: SshTarget, node: str, where: str,
                 dog: Watchdog, parent: list[Lease]) -> paramiko.Transport:
        """Open the bastion as :func:`~.hop.open_hop` does any hop, under a
        watchdog of the opener's remaining time that is cancelled once it
        is open: the shared connection must outlive the node that opened it."""
        route, index = bastion.route, len(bastion.route) - 1
        hop = route[index]
        opening = Watchdog(dog.remaining())

        def attempt() -> paramiko.Transport:
            if index:
                lease = self.lease(route[:-1], hop, target, node, opening, where=where)
                sock: Sock = Tunnel(lease.channel)
            else:
                lease = None
                sock = (proxy_command(hop, where) if hop.proxy_command
                        else tcp_connect(hop, where, opening))
            try:
                transport = open_hop(sock, route, index, target, where, opening, bastion=True)
            except BaseException:
                if lease is not None:
                    lease.release()
                raise
            if lease is not None:
                parent.append(lease)
            return transport

        try:
            return with_retries(attempt, opening)
        except CollectError as exc:
            if exc.error_class is ErrorClass.DEADLINE_EXCEEDED and opening.fired:
                deadline_exceeded(where, dog)
            raise
        finally:
            opening.cancel()

    # -- the end of the run -------------------------------------------------

    def close(self) -> None:
        """Close every bastion connection, innermost first; a node still
        behind one loses it (the run is over)."""
        with self._lock:
            self._closed = True
            bastions = sorted(self._bastions.values(), key=lambda b: -len(b.route))
            self._bastions = {}
        for bastion in bastions:
            bastion.shut()

    def __enter__(self) -> BastionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
