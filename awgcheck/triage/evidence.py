"""Health evidence for triage: handshake age, rx/tx growth, in-tunnel ping.

Latest-handshake alone is an unreliable signal (several builds re-handshake
in storms while no data flows), so a probe adds what is: rx/tx byte growth
between two dumps a short window apart, and a ping through the tunnel to
the source's mesh address. Probes are opt-in (``triage --probe``) and only
ever target an address the inventory names: the host part of the source
conf's ``Address``, validated as an IP address before it reaches a shell.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from awgcheck import params
from awgcheck.collect.base import Collector
from awgcheck.collect.runtime import Missing, command_failure, read_dump
from awgcheck.errors import CollectError
from awgcheck.inventory import Node
from awgcheck.model import ParamDocument
from awgcheck.parse.awgconf import AwgConf
from awgcheck.parse.runtime import PeerState, RuntimeState

DEFAULT_PING = "ping -c 3 -W 2 -I {iface} {addr}"
"""The in-tunnel ping; a node's ``ping:`` field replaces it. ``{iface}`` and
``{addr}`` are filled in; each word is quoted for the remote shell."""

DEFAULT_WINDOW = 5.0
"""Seconds between the two dumps whose rx/tx counters are compared."""

STALE_AFTER = 180
"""A handshake older than this many seconds means no live session:
WireGuard's REJECT_AFTER_TIME (180 s) discards session keys that old."""

PING_TIMEOUT = 20.0

_LOSS = re.compile(r"(\d+(?:\.\d+)?)% packet loss")
_COUNTS = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


@dataclass(frozen=True)
class PeerEvidence:
    """What the dump says about the peer that leads to the source."""

    peer: str  # short public key
    endpoint: str | None
    handshake_age: int | None  # seconds; None when no handshake ever completed
    rx_bytes: int | None
    tx_bytes: int | None
    rx_growth: int | None = None  # over the probe window; None without a probe
    tx_growth: int | None = None
    chosen_by: str = ""  # why this peer (AllowedIPs holds the source address, ...)

    @property
    def handshake_recent(self) -> bool | None:
        if self.handshake_age is None:
            return False if self.rx_bytes is not None else None
        return self.handshake_age <= STALE_AFTER


@dataclass(frozen=True)
class PingResult:
    command: str
    exit_status: int
    transmitted: int | None
    received: int | None
    loss: float | None  # percent
    summary: str  # the tool's loss line, for the report


@dataclass(frozen=True)
class Evidence:
    """Everything gathered about the tunnel's health, and what is missing."""

    peer: PeerEvidence | None = None
    window: float | None = None
    ping: PingResult | None = None
    target: str | None = None  # the mesh address probed
    missing: tuple[Missing, ...] = ()
    probed: bool = False


def mesh_address(conf: ParamDocument | None) -> str | None:
    """The host part of the first address a conf gives its interface (every
    ``Address`` line adds its addresses; the first is the one probed)."""
    if not isinstance(conf, AwgConf):
        return None
    stated = conf.params().get("Address")
    if stated is None:
        return None
    for item in stated.items:
        host = item.split("/")[0]
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            continue
    return None


def choose_peer(state: RuntimeState, target: str | None) -> tuple[PeerState | None, str]:
    """The peer whose AllowedIPs route ``target`` (the source's address);
    with a single peer, that one."""
    if target is not None:
        address = ipaddress.ip_address(target)
        for peer in state.peers:
            for allowed in peer.allowed_ips:
                try:
                    network = ipaddress.ip_network(allowed.strip(), strict=False)
                except ValueError:
                    continue
                if address.version == network.version and address in network:
                    return peer, f"its AllowedIPs ({allowed.strip()}) route {target}"
    if len(state.peers) == 1:
        return state.peers[0], "the only peer"
    return None, ""


def peer_evidence(state: RuntimeState, target: str | None, now: float) -> PeerEvidence | None:
    """Handshake age and counters of the peer toward ``target``, or None
    when no peer is chosen or the view has no counters (showconf only)."""
    peer, why = choose_peer(state, target)
    if peer is None or peer.latest_handshake is None:
        return None
    age = None if peer.latest_handshake == 0 else max(0, int(now) - peer.latest_handshake)
    return PeerEvidence(peer.short_key, peer.endpoint, age, peer.rx_bytes, peer.tx_bytes,
                        chosen_by=why)


def gather(state: RuntimeState | None, node: Node, source: ParamDocument | None, *,
           collector: Collector | None, probe: bool, window: float,
           now: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep,
           target: str | None = None, ping_first: bool = False) -> Evidence:
    """Evidence from the dump already read, plus (with ``probe``) a second
    dump after ``window`` seconds and an in-tunnel ping to ``target`` (by
    default the source's mesh address). ``ping_first``: ping between the
    two dumps, so the rx growth covers the ping's replies (``verify``, whose
    whole run has a few seconds)."""
    target = target or mesh_address(source)
    missing: list[Missing] = []
    first = peer_evidence(state, target, now()) if state is not None else None
    if state is not None and first is None:
        missing.append(_no_peer(state, target))
    if not probe:
        missing.append(Missing("probe", "no probe was run (probes are opt-in)",
                               "run triage again with --probe for rx/tx growth and an "
                               "in-tunnel ping"))
        return Evidence(first, target=target, missing=tuple(missing))
    if collector is None or state is None:
        missing.append(Missing("probe", "no probe is possible without the running state",
                               "first make the running state readable (see above)"))
        return Evidence(first, target=target, missing=tuple(missing), probed=True)
    if ping_first:
        started = now()
        ping = _ping(collector, node, target, missing)
        grown = _growth(collector, node, first, target, window, now, sleep, missing)
        return Evidence(grown, round(now() - started, 1), ping, target, tuple(missing),
                        probed=True)
    grown = _growth(collector, node, first, target, window, now, sleep, missing)
    ping = _ping(collector, node, target, missing)
    return Evidence(grown, window, ping, target, tuple(missing), probed=True)


def _no_peer(state: RuntimeState, target: str | None) -> Missing:
    if not state.peers:
        return Missing("peer", "the running interface has no peers",
                       "add the source as a [Peer] in the node's conf")
    if state.peers[0].latest_handshake is None:
        return Missing("counters", "the runtime view has no handshake or rx/tx counters "
                       "(only `awg showconf` could be read)",
                       "make `awg show <iface> dump` readable on the node")
    return Missing("peer", f"no peer's AllowedIPs route the source address {target}",
                   "check the [Peer] AllowedIPs in the node's conf")


def _growth(collector: Collector, node: Node, first: PeerEvidence | None, target: str | None,
            window: float, now: Callable[[], float], sleep: Callable[[float], None],
            missing: list[Missing]) -> PeerEvidence | None:
    if first is None:
        return None
    sleep(window)
    second_state, problem = read_dump(collector, node)
    if second_state is None:
        missing.append(Missing("rx/tx growth", problem.why if problem else "no second dump",
                               problem.how if problem else "run triage again"))
        return first
    second = peer_evidence(second_state, target, now())
    if second is None or second.rx_bytes is None or first.rx_bytes is None:
        return first
    return PeerEvidence(first.peer, second.endpoint, second.handshake_age, second.rx_bytes,
                        second.tx_bytes, second.rx_bytes - first.rx_bytes,
                        (second.tx_bytes or 0) - (first.tx_bytes or 0), first.chosen_by)


def ping_argv(node: Node, target: str) -> list[str]:
    """The ping command for ``node``: its inventory template, filled in."""
    template = node.ping or DEFAULT_PING
    return [word.replace("{iface}", node.interface).replace("{addr}", target)
            for word in shlex.split(template)]


def _ping(collector: Collector, node: Node, target: str | None,
          missing: list[Missing]) -> PingResult | None:
    if target is None:
        missing.append(Missing("ping", "the source conf names no Address to ping",
                               "give the source conf an Address (its mesh IP)"))
        return None
    argv = ping_argv(node, target)
    shown = shlex.join(argv)
    try:
        # ping itself needs no root; an SSH node with `sudo: true` still runs
        # it under sudo -n, as its transport does for every command.
        result = collector.run(argv, sudo=False, timeout=PING_TIMEOUT)
    except CollectError as exc:
        missing.append(Missing("ping", f"`{shown}` could not be run: {exc}",
                               "check that the node answers over SSH"))
        return None
    output = result.stdout.decode("utf-8", "replace")
    loss = _LOSS.search(output)
    counts = _COUNTS.search(output)
    if loss is None:
        problem = command_failure(node, argv, result)
        missing.append(Missing("ping", problem.why, problem.how))
        return None
    line = next((x for x in output.splitlines() if "packet loss" in x), "")
    return PingResult(shown, result.exit_status,
                      int(counts.group(1)) if counts else None,
                      int(counts.group(2)) if counts else None,
                      float(loss.group(1)), params.scrub(line.strip()))


def describe(evidence: Evidence) -> list[str]:
    """Short observations ("last handshake 12 s ago", "rx did not grow")."""
    seen: list[str] = []
    peer = evidence.peer
    if peer is not None:
        if peer.handshake_age is None:
            seen.append("no handshake ever completed")
        else:
            seen.append(f"last handshake {peer.handshake_age} s ago")
        if peer.rx_growth is not None and evidence.window is not None:
            seen.append("rx did not grow" if peer.rx_growth == 0 else
                        f"rx grew by {peer.rx_growth} bytes in {evidence.window:g} s")
        elif peer.rx_bytes == 0:
            seen.append("rx 0 bytes since the interface came up")
    if evidence.ping is not None and evidence.ping.loss is not None:
        seen.append(f"ping {evidence.ping.loss:g}% loss")
    return seen


def data_flows(evidence: Evidence) -> bool | None:
    """True when data demonstrably flows, False when it demonstrably does
    not, None when the evidence cannot tell."""
    peer, ping = evidence.peer, evidence.ping
    if ping is not None and ping.loss is not None:
        if ping.loss >= 100:
            return False
        if ping.loss == 0:
            return True
    if peer is not None and peer.rx_growth is not None:
        return peer.rx_growth > 0
    if peer is not None and peer.rx_bytes == 0:
        return False
    return None


def partial_loss(evidence: Evidence) -> bool:
    """Some pings came back and some did not."""
    ping = evidence.ping
    return ping is not None and ping.loss is not None and 0 < ping.loss < 100
