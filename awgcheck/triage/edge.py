"""The tunnel between the triaged node and its partner (the source node) as
the mesh sees it: public keys, PresharedKeys, the Endpoint and AllowedIPs
of both confs.

Used when the inventory declares a ``mesh:`` and the source is a node of
it (docs/triage.md, "The mesh edge"). The two confs are built into a mesh
of those two nodes with the mesh model, and judged by the mesh checks
themselves (:mod:`awgcheck.checks.mesh`), so a key, an AllowedIPs gap or
an Endpoint is read exactly as ``check`` reads it. Each fault says which
side is wrong and what to change there; its class says what the tunnel
looks like, so the verdict ranks it with the param differences
(:mod:`awgcheck.triage.cause`): a key mismatch explains "no handshake ever".

Public keys are printed (anyone may read them); private keys never reach
the mesh model, and PresharedKeys are digests there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from awgcheck.checks import mesh as mesh_checks
from awgcheck.checks.base import CheckFn, Context, Outcome
from awgcheck.mesh import model
from awgcheck.mesh.settings import MeshSettings
from awgcheck.model import Status
from awgcheck.parse import awgconf
from awgcheck.symptoms import Expect, MismatchClass
from awgcheck.triage.fix import FixStep

KEY = MismatchClass("mesh-key", (), "handshake never completes: each side's handshake is "
                    "made for a key the other does not hold", Expect.NO_HANDSHAKE)
ENDPOINT = MismatchClass("mesh-endpoint", (), "the node's handshakes go to a port or host "
                         "where the partner does not listen", Expect.NO_HANDSHAKE)
ALLOWED_IPS = MismatchClass("mesh-allowed-ips", (), "handshakes complete, but packets from "
                            "or to the missing address are dropped", Expect.DEAD)


@dataclass(frozen=True)
class End:
    """One end of the edge: the inventory node, its conf and where it is edited."""

    member: model.Member
    conf: awgconf.AwgConf
    edit_path: str  # the conf as the operator edits it (the path on an SSH node)
    interface: str = "awg0"
    sudo: bool = False


@dataclass(frozen=True)
class EdgeFault:
    cls: MismatchClass
    headline: str  # the cause, naming the wrong side
    steps: tuple[FixStep, ...]  # the fix, on the side that is wrong
    on_node: bool  # the fix edits the triaged node's conf (else the partner's)


def faults(settings: MeshSettings, node: End, partner: End) -> tuple[EdgeFault, ...]:
    """What is wrong with the edge ``node``-``partner``, worst first."""
    n, p = node.member.name, partner.member.name
    mesh = model.build(settings, [node.member, partner.member],
                       {n: node.conf, p: partner.conf})
    here, there = mesh.interfaces[n], mesh.interfaces[p]
    if here.public_key is None or there.public_key is None:
        return ()  # a conf without a valid PrivateKey: conf-loads says so
    found: list[EdgeFault] = []
    if mesh.peer_for(n, p) is None:
        found.append(_node_lacks(mesh, node, partner))
    if mesh.peer_for(p, n) is None:
        found.append(_partner_lacks(mesh, node, partner))
    if not found:
        found.extend(_judged(mesh, node, partner))
    return tuple(found)


def _node_lacks(mesh: model.Mesh, node: End, partner: End) -> EdgeFault:
    """The node has no [Peer] with the partner's key: an old key, or none."""
    n, p = node.member.name, partner.member.name
    key = mesh.interfaces[p].public_key
    stale = _stale(mesh, mesh.interfaces[n], lambda e: _dials(e, partner.member),
                   only_one=True)
    if stale is not None and stale.public_key is not None:
        return EdgeFault(KEY, (
            f"handshake never completes: {n}'s [Peer] for {p} ({node.edit_path}:{stale.line}) "
            f"carries an old key {_short(stale.public_key.text)}, not {p}'s public key "
            f"{_short(key)}: {p} cannot read {n}'s handshake initiations"),
            (FixStep(node.edit_path, stale.public_key.line,
                     f"on {n}: change `PublicKey = {stale.public_key.text}` to "
                     f"`PublicKey = {key}` ({p}'s public key)"),), True)
    face = mesh.interfaces[p]
    lines = [f"PublicKey = {key}", f"AllowedIPs = {_hosts(face)}"]
    if face.listen_port is not None and partner.member.reachable_at:
        lines.append(f"Endpoint = {partner.member.reachable_at[-1]}:{face.listen_port.text}")
    return EdgeFault(KEY, (
        f"handshake never completes: {n} has no [Peer] for {p} (none with {p}'s public key "
        f"{_short(key)}): {n} neither initiates to {p} nor accepts its handshakes"),
        (FixStep(node.edit_path, None, f"on {n}: add a [Peer] for {p}: "
                 + "; ".join(f"`{line}`" for line in lines)),), True)


def _partner_lacks(mesh: model.Mesh, node: End, partner: End) -> EdgeFault:
    """The partner has no [Peer] with the node's key: an old key, or none."""
    n, p = node.member.name, partner.member.name
    face = mesh.interfaces[n]
    key = face.public_key
    apply = FixStep(None, None, _apply(partner), on=p)
    stale = _stale(mesh, mesh.interfaces[p], lambda e: _routes(e, face), only_one=False)
    if stale is not None and stale.public_key is not None:
        return EdgeFault(KEY, (
            f"handshake never completes: {p}'s [Peer] for {n} ({partner.edit_path}:"
            f"{stale.line}, the one whose AllowedIPs route {n}'s address) carries an old key "
            f"{_short(stale.public_key.text)}, not {n}'s public key {_short(key)}: {p} drops "
            f"{n}'s handshake initiations"),
            (FixStep(partner.edit_path, stale.public_key.line,
                     f"on {p}: change `PublicKey = {stale.public_key.text}` to "
                     f"`PublicKey = {key}` ({n}'s public key)"), apply), False)
    return EdgeFault(KEY, (
        f"handshake never completes: {p} has no [Peer] for {n} (none with {n}'s public key "
        f"{_short(key)}): {p} drops {n}'s handshake initiations"),
        (FixStep(partner.edit_path, None, f"on {p}: add a [Peer] for {n}: "
                 f"`PublicKey = {key}`; `AllowedIPs = {_hosts(face)}`"), apply), False)


def _judged(mesh: model.Mesh, node: End, partner: End) -> Iterator[EdgeFault]:
    """Both ends list each other: the mesh checks judge the rest of the edge."""
    n, p = node.member.name, partner.member.name
    for end, other in ((node, partner), (partner, node)):  # reported on one end only
        for outcome in _failing(mesh_checks.check_preshared_key, mesh, end, other):
            yield _preshared(mesh, node, partner, outcome)
    for outcome in _failing(mesh_checks.check_endpoint, mesh, node, partner):
        # The partner dials a spoke back at most: only the node's Endpoint matters.
        action = f"set the Endpoint for {p} to {_where(mesh, partner)}"
        yield EdgeFault(ENDPOINT, f"{n}'s handshakes never reach {p}: {outcome.message}",
                        (_edit(node, outcome, action),), True)
    for end, other in ((node, partner), (partner, node)):
        them = other.member.name
        for outcome in _failing(mesh_checks.check_allowed_ips_cover, mesh, end, other):
            action = f"add {_hosts(mesh.interfaces[them])} to the AllowedIPs for {them}"
            steps = [_edit(end, outcome, action)]
            if end is partner:
                steps.append(FixStep(None, None, _apply(partner), on=partner.member.name))
            yield EdgeFault(ALLOWED_IPS, f"{end.member.name}'s {outcome.message}: "
                            f"{outcome.symptom}", tuple(steps), end is node)


def _preshared(mesh: model.Mesh, node: End, partner: End, outcome: Outcome) -> EdgeFault:
    """The two ends hold different PresharedKeys: the node takes the
    partner's (the hub issued it). Keys are named by where they are written,
    never by value."""
    n, p = node.member.name, partner.member.name
    mine, theirs = mesh.peer_for(n, p), mesh.peer_for(p, n)
    assert mine is not None and theirs is not None  # both ends list each other
    if theirs.preshared_key is None:
        action = f"on {n}: delete the PresharedKey for {p} ({p} holds none for {n})"
    else:
        action = (f"on {n}: set `PresharedKey = <the key from {partner.edit_path}:"
                  f"{theirs.preshared_key.line}>` for {p}")
        if mine.preshared_key is None:
            action = action.replace("set", "add", 1)
    line = mine.preshared_key.line if mine.preshared_key is not None else mine.line
    return EdgeFault(KEY, f"handshake never completes: {outcome.message}",
                     (FixStep(node.edit_path, line, action),), True)


def _failing(check: CheckFn, mesh: model.Mesh, end: End,
             other: End) -> Iterator[Outcome]:
    name = end.member.name
    context = Context(name, end.conf, (), "any", mesh=mesh)
    for outcome in check(context, {}):
        if outcome.status is Status.FAIL and outcome.param == f"peer {other.member.name}":
            yield outcome


def _edit(end: End, outcome: Outcome, action: str) -> FixStep:
    line = outcome.location.line if outcome.location is not None else None
    return FixStep(end.edit_path, line, f"on {end.member.name}: {action}")


def _where(mesh: model.Mesh, partner: End) -> str:
    face = mesh.interfaces[partner.member.name]
    hosts = partner.member.reachable_at
    host = hosts[-1] if hosts else "its address"
    port = face.listen_port.text if face.listen_port is not None else "its ListenPort"
    return f"`{host}:{port}`"


def _stale(mesh: model.Mesh, face: model.Interface,
           likely: Callable[[model.PeerEntry], bool], *,
           only_one: bool) -> model.PeerEntry | None:
    """The [Peer] of ``face`` that is most likely the other end under an
    old key: one whose key neither end holds and that ``likely`` picks (it
    dials the partner, or routes the node's address); else, with
    ``only_one`` (a node's single unknown peer is its partner; a hub's
    are its other spokes), the only such entry."""
    unknown = [e for e in face.peers if e.public_key is not None
               and not mesh.target(e).nodes and mesh.target(e).external is None]
    picked = [e for e in unknown if likely(e)]
    if picked:
        return picked[-1]  # the tool keeps the last of two entries
    return unknown[0] if only_one and len(unknown) == 1 else None


def _dials(entry: model.PeerEntry, partner: model.Member) -> bool:
    if entry.endpoint is None:
        return False
    host, _ = mesh_checks.split_endpoint(entry.endpoint.text)
    return mesh_checks.names_host(host, partner.reachable_at)


def _routes(entry: model.PeerEntry, face: model.Interface) -> bool:
    """Whether ``entry``'s AllowedIPs route one of ``face``'s tunnel
    addresses more narrowly than a whole default route."""
    return any(address.ip in net and net.prefixlen > 0 for address, _ in face.addresses
               for net, _ in entry.allowed_ips if net.version == address.ip.version)


def _hosts(face: model.Interface) -> str:
    """``face``'s tunnel addresses as host routes (what a peer's AllowedIPs holds)."""
    found = [str(ipaddress.ip_network(address.ip)) for address, _ in face.addresses]
    return ", ".join(found) or f"{face.node}'s tunnel address"


def _apply(end: End) -> str:
    """The command that applies a peer change without dropping the other
    tunnels (awg syncconf adds and updates peers in place)."""
    inner = f"awg syncconf {end.interface} <(awg-quick strip {end.interface})"
    return f"sudo bash -c '{inner}'" if end.sudo else inner


def _short(key: str | None) -> str:
    return (key[:8] + "...") if key else "(none)"
