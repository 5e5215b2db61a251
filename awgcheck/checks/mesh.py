"""Cross-node checks: a node's side of its mesh edges, judged against the
confs of the other nodes (docs/topology.md).

Each check runs on one node (the rule's ``conf`` artifact) and reads the
run's :class:`~awgcheck.mesh.model.Mesh`. A fault between two nodes is
reported once, on the node where it is fixed (the one that lacks an entry,
the spoke of a hub edge), naming both nodes, both files and lines (the
other end in ``related``) and what it does to the tunnel. A run without a
``mesh:`` section in its inventory gets no finding from these checks; an
edge whose other node was not read is skipped, saying so.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from awgcheck.checks.base import Context, Outcome
from awgcheck.mesh.model import DEFAULT_MTU, Interface, Mesh, PeerEntry
from awgcheck.mesh.settings import Network
from awgcheck.model import Location, RelatedLocation, Status


def _mesh(ctx: Context) -> tuple[Mesh, Interface] | None:
    mesh = ctx.mesh
    if mesh is None or ctx.node not in mesh.interfaces:
        return None
    return mesh, mesh.interfaces[ctx.node]


def _at(entry: PeerEntry | Interface, line: int | None = None) -> RelatedLocation:
    return RelatedLocation(entry.node, Location(entry.path, line or entry.line))


def _fail(message: str, location: Location, related: RelatedLocation | None,
          symptom: str, param: str | None = None) -> Outcome:
    return Outcome(Status.FAIL, message, param, location=location, related=related,
                   symptom=symptom)


def _unread(other: str, param: str, location: Location) -> Outcome:
    return Outcome(Status.SKIP, f"not compared: node {other} was not read in this run",
                   param, location=location)


def _short(key: str) -> str:
    """A public key as messages name it (a full key-length run would be
    digested by the output scrubber, which cannot tell it is public)."""
    return key[:8] + "..."


def check_peer_known(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Every [Peer] key is a node of the fleet or a declared external peer."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    for entry in face.peers:
        if entry.public_key is None:
            continue  # conf-loads reports a [Peer] without a key
        key = entry.public_key.text
        where = Location(entry.path, entry.public_key.line)
        target = mesh.target(entry)
        if key == face.public_key:
            yield _fail(f"[Peer] at line {entry.line} has {ctx.node}'s own public key",
                        where, None, "the runtime silently ignores a peer with the "
                        "interface's own key: this entry does nothing")
        elif len(target.nodes) > 1:
            yield _fail(f"[Peer] at line {entry.line} ({_short(key)}) is the key of nodes "
                        f"{', '.join(target.nodes)}: their PrivateKey is the same",
                        where, _at(mesh.interfaces[target.nodes[0]]),
                        "two nodes with one key cannot be told apart: the endpoint "
                        "follows whichever of them sent last, and each loses the tunnel "
                        "in turn",
                        f"peer {target.nodes[0]}")
        elif target.node is not None:
            yield Outcome(Status.PASS, f"[Peer] at line {entry.line} is node {target.node}",
                          f"peer {target.node}", location=where)
        elif target.external is not None:
            yield Outcome(Status.PASS, f"[Peer] at line {entry.line} is external peer "
                          f"{target.external.name}", f"peer {target.external.name}",
                          location=where)
        elif mesh.unread:
            yield Outcome(Status.SKIP, f"not compared: [Peer] at line {entry.line} "
                          f"({_short(key)}) may be one of the nodes not read in this run",
                          location=where)
        else:
            yield _fail(f"[Peer] at line {entry.line} ({_short(key)}) is no node of the "
                        f"fleet and no external peer declared in {mesh.settings.declared}",
                        where, None, "no handshake with this peer: no node of the fleet "
                        "holds its private key (a stale key, or a node re-keyed without "
                        "updating its partners)")


def check_symmetric(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """A lists B => B lists A; and every edge the topology asks for exists.
    Reported on the node that lacks the entry."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    listed = {other: entry for entry, other in mesh.node_peers(ctx.node)}
    for other, entry in listed.items():  # read nodes only: an unread node's key is unknown
        if mesh.peer_for(other, ctx.node) is not None:
            yield Outcome(Status.PASS, f"{ctx.node} and {other} list each other",
                          f"peer {other}", location=entry.location)
    for other, back in mesh.listed_by(ctx.node).items():
        if other not in listed:
            yield _fail(f"{ctx.node} has no [Peer] for {other}, but {back.where()} lists "
                        f"{ctx.node}", face.location, _at(back),
                        f"no tunnel between {ctx.node} and {other}: {ctx.node} drops "
                        f"{other}'s handshake initiations (no peer with that key) and never "
                        "initiates itself", f"peer {other}")
    topology = mesh.settings.topology
    for other in mesh.required(ctx.node):
        if other in listed:
            continue
        if other not in mesh.interfaces:
            yield _unread(other, f"peer {other}", face.location)
            continue
        if mesh.peer_for(other, ctx.node) is not None:
            continue  # said above: the other end lists this node
        if not mesh.owns_edge(ctx.node, other):
            continue  # a missing edge is said once, on the spoke
        them = mesh.interfaces[other]
        yield _fail(f"{ctx.node} and {other} ({them.path}) do not list each other; "
                    f"{topology} wants the edge", face.location, _at(them),
                    f"no tunnel between {ctx.node} and {other}", f"peer {other}")


def check_allowed_ips_cover(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """The AllowedIPs this node holds for B cover B's tunnel Address."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, _ = found
    for entry, other in mesh.node_peers(ctx.node):
        param = f"peer {other}"
        peer = mesh.interfaces[other]
        if not peer.addresses:
            yield Outcome(Status.SKIP, f"not compared: {other} has no tunnel Address", param,
                          location=entry.location)
            continue
        nets = [net for net, _ in entry.allowed_ips]
        for address, line in peer.addresses:
            ip = address.ip
            if any(ip in net for net in nets if net.version == ip.version):
                yield Outcome(Status.PASS, f"AllowedIPs for {other} cover its address {ip}",
                              param, location=entry.location)
                continue
            held = ", ".join(str(n) for n in nets) or "none"
            at = entry.allowed_ips[0][1] if entry.allowed_ips else entry.line
            yield _fail(f"AllowedIPs for {other} ({held}) do not cover {other}'s tunnel "
                        f"address {ip} ({peer.path}:{line})",
                        Location(entry.path, at), _at(peer, line),
                        f"{ctx.node} drops every packet from {ip} (its source is not in "
                        f"{other}'s AllowedIPs) and routes nothing for {ip} to {other}", param)


def check_allowed_ips_disjoint(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """No two [Peer] entries of one interface hold overlapping AllowedIPs."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    nested_ok = bool(options.get("allow_nested", False))
    held = [(net, line, entry) for entry in face.peers for net, line in entry.allowed_ips]
    clashes = 0
    for (net_a, line_a, first), (net_b, line_b, second) in _overlaps(held):
        if net_a != net_b and nested_ok:
            continue
        clashes += 1
        name_a, name_b = _name(mesh, first), _name(mesh, second)
        if net_a == net_b:
            what = f"{net_a} is held by {name_a} (line {line_a}) and {name_b} (line {line_b})"
            effect = (f"awg setconf moves {net_a} to the later peer: all traffic for it "
                      f"goes to {name_b}, none to {name_a}")
        else:
            narrow, wide = (net_a, net_b) if net_a.prefixlen > net_b.prefixlen \
                else (net_b, net_a)
            to_narrow, to_wide = (name_a, name_b) if narrow == net_a else (name_b, name_a)
            what = (f"{net_a} of {name_a} (line {line_a}) overlaps {net_b} of {name_b} "
                    f"(line {line_b})")
            effect = (f"cryptokey routing sends traffic for {narrow} to {to_narrow} (the "
                      f"most specific prefix) and the rest of {wide} to {to_wide}; "
                      f"packets from {narrow} are accepted only from {to_narrow}")
        yield _fail(what, Location(face.path, line_b),
                    RelatedLocation(ctx.node, Location(face.path, line_a)), effect,
                    _param(mesh, second))
    if held and not clashes:
        yield Outcome(Status.PASS, f"the AllowedIPs of {len(face.peers)} peer(s) are disjoint",
                      location=face.location)


Held = tuple[Network, int, PeerEntry]


def _overlaps(held: list[Held]) -> Iterator[tuple[Held, Held]]:
    """Pairs of networks of different entries that overlap, the earlier line
    first. Two CIDR networks overlap only when one holds the other, so one
    sorted sweep with a stack of the networks that enclose the current one
    finds each (against its innermost encloser of another entry): a hub
    with 10,000 peers costs a sort, not 50 million comparisons."""
    ordered = sorted(held, key=lambda h: (h[0].version, int(h[0].network_address),
                                          h[0].prefixlen, h[1]))
    stack: list[Held] = []
    for current in ordered:
        net = current[0]
        while stack and not (stack[-1][0].version == net.version
                             and net.subnet_of(stack[-1][0])):  # type: ignore[arg-type]
            stack.pop()
        outer = next((h for h in reversed(stack) if h[2] is not current[2]), None)
        if outer is not None:
            yield (outer, current) if outer[1] <= current[1] else (current, outer)
        stack.append(current)


def _param(mesh: Mesh, entry: PeerEntry) -> str:
    """A finding's ``param`` for an entry: ``peer NAME``, or ``peer line N``
    for a key that names nothing known."""
    target = mesh.target(entry)
    known = target.node or (target.external.name if target.external else None)
    return f"peer {known}" if known else f"peer line {entry.line}"


def _name(mesh: Mesh, entry: PeerEntry) -> str:
    target = mesh.target(entry)
    if target.node is not None:
        return target.node
    if target.external is not None:
        return target.external.name
    return f"the [Peer] at line {entry.line}"


def check_address_unique(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Tunnel addresses are unique across the fleet and inside the mesh prefix."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    if not face.addresses:
        yield Outcome(Status.SKIP, f"not compared: {ctx.node} has no tunnel Address",
                      location=face.location)
        return
    prefixes = mesh.settings.prefixes
    for address, line in face.addresses:
        here = Location(face.path, line)
        ip = address.ip
        clash = False
        for other, their_line in mesh.holders_of(ip):
            if other != ctx.node:
                peer = mesh.interfaces[other]
                clash = True
                yield _fail(f"{ip} is {ctx.node}'s tunnel address and {other}'s "
                            f"({peer.path}:{their_line})", here, _at(peer, their_line),
                            f"both nodes claim {ip}: each peer routes it to whichever "
                            "of the two it lists (the later one if both), the other "
                            "node is unreachable at it", f"address {ip}")
        inside = [p for p in prefixes if p.version == ip.version]
        if inside and not any(ip in p for p in inside):
            clash = True
            yield _fail(f"{ip} is outside the mesh prefix "
                        f"{', '.join(str(p) for p in inside)} ({mesh.settings.declared})", here,
                        None,
                        "peers whose AllowedIPs cover only the mesh prefix drop this "
                        "node's packets", f"address {ip}")
        if not clash:
            among = (f" among the {len(mesh.interfaces)} nodes read ({len(mesh.unread)} "
                     "not read)" if mesh.unread else "")
            yield Outcome(Status.PASS, f"{ip} is unique{among}"
                          + (" and inside the mesh prefix" if inside else ""),
                          f"address {ip}", location=here)


def check_endpoint(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """The Endpoint this node holds for B is B's ListenPort, at B's inventory
    host or a declared public address."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    for entry in face.peers:
        if entry.endpoint is None:
            continue
        target = mesh.target(entry)
        host, port = split_endpoint(entry.endpoint.text)
        here = Location(entry.path, entry.endpoint.line)
        if target.external is not None:
            name, param = target.external.name, f"peer {target.external.name}"
            allowed = (target.external.address,) if target.external.address else ()
            if allowed and not names_host(host, allowed):
                yield _fail(f"Endpoint for {name} is {host}, but "
                            f"{mesh.settings.declared_at(target.external.line)} "
                            f"declares its address {allowed[0]}", here, None,
                            f"{ctx.node} sends its handshakes to a host that is not {name}",
                            param)
            continue
        other = target.node
        if other is None:
            continue
        param = f"peer {other}"
        peer = mesh.interfaces[other]
        good = True
        if peer.listen_port is None:
            good = False
            yield _fail(f"Endpoint for {other} is port {port}, but {other} sets no "
                        f"ListenPort ({peer.path})", here, _at(peer),
                        f"{other} listens on a random port chosen at each start: "
                        f"{ctx.node} reaches it only by chance", param)
        elif peer.listen_port.text != port:
            good = False
            yield _fail(f"Endpoint for {other} is port {port}, but {other} listens on "
                        f"{peer.listen_port.text} ({peer.path}:{peer.listen_port.line})",
                        here, _at(peer, peer.listen_port.line),
                        f"{ctx.node}'s handshakes go to a closed port: no tunnel unless "
                        f"{other} initiates first", param)
        hosts = mesh.members[other].reachable_at if other in mesh.members else ()
        if hosts and not names_host(host, hosts):
            good = False
            yield _fail(f"Endpoint for {other} is host {host}, but the inventory has "
                        f"{other} ({peer.path}) at {', '.join(hosts)}", here, _at(peer),
                        f"{ctx.node} sends its handshakes to a host that is not {other}",
                        param)
        if good:
            yield Outcome(Status.PASS, f"Endpoint for {other} is its ListenPort {port}"
                          + (f" at {host}" if hosts else ""), param, location=here)


def names_host(host: str, hosts: Sequence[str]) -> bool:
    """Does ``host`` name one of ``hosts``? Names compare without case,
    addresses by value (``2001:DB8:0::1`` is ``2001:db8::1``)."""
    return any(_host_key(host) == _host_key(h) for h in hosts)


def _host_key(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return host.lower().rstrip(".")


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """(host, port) of an effective Endpoint (``host:port`` or ``[v6]:port``);
    the port in the tool's reading (``65536`` is 0)."""
    if endpoint.startswith("["):
        host, _, rest = endpoint[1:].partition("]")
        port = rest[1:]
    else:
        host, _, port = endpoint.rpartition(":")
    return host, str(int(port) % 65536) if port.isdigit() else port


def check_preshared_key(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Both ends of an edge hold the same PresharedKey (compared by digest),
    or neither holds one."""
    for entry, other, back in _edges(ctx):
        mine = entry.preshared_key.text if entry.preshared_key else None
        theirs = back.preshared_key.text if back.preshared_key else None
        param = f"peer {other}"
        if mine == theirs:
            yield Outcome(Status.PASS, f"PresharedKey for {other} matches "
                          f"{other}'s" if mine else f"neither {ctx.node} nor {other} sets a "
                          "PresharedKey", param, location=entry.location)
            continue
        line = entry.preshared_key.line if entry.preshared_key else entry.line
        their_line = back.preshared_key.line if back.preshared_key else back.line
        yield _fail(f"PresharedKey for {other} is {mine or 'unset'} at {entry.path}:{line}, "
                    f"{other}'s for {ctx.node} is {theirs or 'unset'} at "
                    f"{back.path}:{their_line}", Location(entry.path, line),
                    _at(back, their_line), "no handshake completes: the preshared key is "
                    "mixed into the handshake, so the initiator cannot open the response",
                    param)


def check_mtu(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """Both ends of an edge run the same MTU (absent: awg-quick's 1420)."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    for entry, other, _ in _edges(ctx):
        peer = mesh.interfaces[other]
        mine = face.mtu.text if face.mtu else DEFAULT_MTU
        theirs = peer.mtu.text if peer.mtu else DEFAULT_MTU
        param = f"peer {other}"
        if mine == theirs:
            yield Outcome(Status.PASS, f"MTU {mine} on both {ctx.node} and {other}", param,
                          location=entry.location)
            continue
        low = min(int(mine), int(theirs)) if mine.isdigit() and theirs.isdigit() else mine
        yield _fail(f"MTU is {mine} on {ctx.node} ({face.path}:"
                    f"{face.mtu.line if face.mtu else face.line}) and {theirs} on {other} "
                    f"({peer.path}:{peer.mtu.line if peer.mtu else peer.line})",
                    Location(face.path, face.mtu.line if face.mtu else face.line),
                    _at(peer, peer.mtu.line if peer.mtu else None),
                    f"packets larger than {low} bytes between them are dropped or "
                    "fragmented: pings and small requests work, large transfers stall",
                    param)


def _edges(ctx: Context) -> Iterator[tuple[PeerEntry, str, PeerEntry]]:
    """Each edge this node owns (:meth:`Mesh.owns_edge`) whose both ends
    list each other: (this end, the other node, its end)."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, _ = found
    for entry, other in mesh.node_peers(ctx.node):
        if not mesh.owns_edge(ctx.node, other):
            continue
        back = mesh.peer_for(other, ctx.node)
        if back is None:
            continue  # one-sided: mesh-edges-symmetric says so
        yield entry, other, back


def check_keepalive_nat(ctx: Context, options: Mapping[str, Any]) -> Iterator[Outcome]:
    """A node declared behind NAT keeps its mappings open: PersistentKeepalive
    on every [Peer] it reaches by Endpoint."""
    found = _mesh(ctx)
    if found is None:
        return
    mesh, face = found
    member = mesh.members.get(ctx.node)
    if member is None or not member.behind_nat:
        return
    for entry in face.peers:
        if entry.endpoint is None:
            continue
        name = _name(mesh, entry)
        if entry.keepalive is not None and entry.keepalive.text not in ("0", "off"):
            yield Outcome(Status.PASS, f"PersistentKeepalive {entry.keepalive.text} for "
                          f"{name}", _param(mesh, entry), location=entry.location)
            continue
        other = mesh.target(entry).node
        back = mesh.peer_for(other, ctx.node) if other is not None else None
        listed = f"; {back.where()} lists {ctx.node}" if back is not None else ""
        yield _fail(f"{ctx.node} is behind NAT ({mesh.settings.origin}) but its [Peer] for "
                    f"{name} sets no PersistentKeepalive{listed}", entry.location,
                    _at(back) if back is not None else None,
                    f"the NAT mapping expires when the tunnel is idle: {name} cannot reach "
                    f"{ctx.node} until {ctx.node} sends again", _param(mesh, entry))
