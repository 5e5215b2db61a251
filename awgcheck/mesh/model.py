"""The mesh of one run: every read node's interface, what each of its
``[Peer]`` entries is (a node of the fleet, a declared external peer, or
nothing known), and the edges between nodes with their two ends.

Built once per run from the inventory and the confs that were read; pure
(no transport, no I/O), so the checks and the engine can hold it.
Private keys never get here: the conf parser keeps only the public key it
derived and the PresharedKey's digest.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from awgcheck import params
from awgcheck.mesh.settings import ExternalPeer, MeshSettings, Network, Topology
from awgcheck.model import Location
from awgcheck.parse import awgconf

Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_MTU = "1420"
"""What awg-quick sets without an MTU line on the usual 1500-byte route
(it takes the route's MTU minus 80)."""


@dataclass(frozen=True)
class Member:
    """A node of the inventory as the mesh sees it (read or not)."""

    name: str
    host: str | None = None
    public_address: tuple[str, ...] = ()
    behind_nat: bool = False

    @property
    def reachable_at(self) -> tuple[str, ...]:
        """The hosts a peer's Endpoint may name for it."""
        return tuple(h for h in (self.host, *self.public_address) if h)


@dataclass(frozen=True)
class Value:
    """One value of a conf line, where it is written."""

    text: str
    line: int


@dataclass(frozen=True)
class PeerEntry:
    """One ``[Peer]`` section of a node's conf."""

    node: str
    path: str
    line: int  # the [Peer] header
    public_key: Value | None
    allowed_ips: tuple[tuple[Network, int], ...]  # each network and its line
    endpoint: Value | None = None
    preshared_key: Value | None = None  # its digest, never the key
    keepalive: Value | None = None

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def where(self) -> str:
        """``node (path:line)``, for a message that names this end."""
        return f"{self.node} ({self.path}:{self.line})"


@dataclass(frozen=True)
class Interface:
    """One read node's interface: its own keys, addresses and peers."""

    node: str
    path: str
    line: int  # the [Interface] header, or 1
    public_key: str | None
    addresses: tuple[tuple[Address, int], ...] = ()
    listen_port: Value | None = None
    mtu: Value | None = None
    peers: tuple[PeerEntry, ...] = ()
    # The must-match params (S1-S4, H1-H4, HeaderProtectionKey,
    # RandomTrailers) as the tool applies them, absent ones as their
    # default: two ends that differ here cannot talk.
    must_match: tuple[tuple[str, str | None], ...] = ()

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)


@dataclass(frozen=True)
class Target:
    """What a ``[Peer]`` entry's key names."""

    nodes: tuple[str, ...] = ()  # every node whose PrivateKey gives this key
    external: ExternalPeer | None = None

    @property
    def node(self) -> str | None:
        return self.nodes[0] if len(self.nodes) == 1 else None


@dataclass(frozen=True)
class Mesh:
    """The run's mesh, with the indexes every check asks (built once by
    :func:`build`, so a 10,000-node hub costs no quadratic scan)."""

    settings: MeshSettings
    members: Mapping[str, Member]  # every inventory node with a conf, in order
    interfaces: Mapping[str, Interface]  # the nodes read in this run
    _holders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _external: Mapping[str, ExternalPeer] = field(default_factory=dict)
    # node -> other node -> node's [Peer] for it (the last one, as the tool keeps)
    _links: Mapping[str, Mapping[str, PeerEntry]] = field(default_factory=dict)
    # node -> the nodes that list it -> their [Peer] for it
    _listed_by: Mapping[str, Mapping[str, PeerEntry]] = field(default_factory=dict)
    # tunnel IP -> (node, line) of every read node that has it
    _addresses: Mapping[IP, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    _order: Mapping[str, int] = field(default_factory=dict)

    @property
    def unread(self) -> tuple[str, ...]:
        """Nodes of the fleet not read in this run (not selected, or failed)."""
        return tuple(n for n in self.members if n not in self.interfaces)

    def target(self, entry: PeerEntry) -> Target:
        if entry.public_key is None:
            return Target()
        key = entry.public_key.text
        return Target(self._holders.get(key, ()), self._external.get(key))

    def peer_for(self, node: str, other: str) -> PeerEntry | None:
        """``node``'s [Peer] entry for node ``other``, or None (None too
        when ``node`` was not read)."""
        return self._links.get(node, {}).get(other)

    def node_peers(self, node: str) -> Iterator[tuple[PeerEntry, str]]:
        """``node``'s [Peer] entries for other fleet nodes, with the node,
        one per node (the last entry, as the tool keeps it)."""
        for other, entry in self._links.get(node, {}).items():
            yield entry, other

    def edges(self) -> Iterator[tuple[str, str]]:
        """Every pair of read nodes of which at least one lists the other,
        once, in inventory order."""
        last = len(self._order)
        seen: set[tuple[str, str]] = set()
        for node in self.interfaces:
            for other in self._links.get(node, {}):
                first, second = sorted((node, other),
                                       key=lambda n: (self._order.get(n, last), n))
                if (first, second) not in seen:
                    seen.add((first, second))
                    yield first, second

    def listed_by(self, node: str) -> Mapping[str, PeerEntry]:
        """The read nodes that list ``node``, each with its [Peer] for it."""
        return self._listed_by.get(node, {})

    def holders_of(self, ip: IP) -> tuple[tuple[str, int], ...]:
        """(node, line) of every read node whose tunnel Address is ``ip``."""
        return self._addresses.get(ip, ())

    def required(self, node: str) -> Iterator[str]:
        """The nodes the topology says ``node`` must list."""
        topology, hub = self.settings.topology, self.settings.hub
        if topology is Topology.FULL_MESH or (topology is Topology.HUB_AND_SPOKE
                                              and node == hub):
            yield from (n for n in self.members if n != node)
        elif topology is Topology.HUB_AND_SPOKE and hub is not None and hub != node:
            yield hub

    def owns_edge(self, node: str, other: str) -> bool:
        """Whether a finding about the edge ``node``-``other`` as a whole
        (both ends disagree) is reported on ``node``: once per edge, on the
        spoke when one end is the hub, else on the first by inventory order."""
        hub = self.settings.hub
        if hub in (node, other):
            return other == hub
        last = len(self._order)
        return self._order.get(node, last) < self._order.get(other, last + 1)


def build(settings: MeshSettings, members: Sequence[Member],
          confs: Mapping[str, awgconf.AwgConf]) -> Mesh:
    """The mesh of ``members`` (every inventory node with a conf), of which
    the nodes in ``confs`` were read."""
    interfaces = {name: interface(name, conf) for name, conf in confs.items()}
    holders: dict[str, list[str]] = {}
    addresses: dict[IP, list[tuple[str, int]]] = {}
    for name, face in interfaces.items():
        if face.public_key is not None:
            holders.setdefault(face.public_key, []).append(name)
        for address, line in face.addresses:
            addresses.setdefault(address.ip, []).append((name, line))
    unique = {key: names[0] for key, names in holders.items() if len(names) == 1}
    links: dict[str, dict[str, PeerEntry]] = {}
    listed_by: dict[str, dict[str, PeerEntry]] = {}
    for name, face in interfaces.items():
        for entry in face.peers:
            other = unique.get(entry.public_key.text) if entry.public_key else None
            if other is not None and other != name:
                links.setdefault(name, {})[other] = entry
                listed_by.setdefault(other, {})[name] = entry
    order = {m.name: i for i, m in enumerate(members)}
    return Mesh(settings, {m.name: m for m in members}, interfaces,
                {k: tuple(v) for k, v in holders.items()},
                {p.public_key: p for p in settings.external}, links, listed_by,
                {k: tuple(v) for k, v in addresses.items()}, order)


def interface(node: str, conf: awgconf.AwgConf) -> Interface:
    """What the mesh needs of one conf, as ``awg-quick up`` reads it."""
    section = conf.interface()
    addresses: list[tuple[Address, int]] = []
    if section is not None:
        for entry in section.all("Address"):
            for item in _items(entry):
                try:
                    addresses.append((ipaddress.ip_interface(item), entry.line))
                except ValueError:
                    continue  # not an address: conf-loads and awg-quick say so
    return Interface(
        node, conf.path, section.line if section is not None else 1, conf.public_key,
        tuple(addresses), _value(section, "ListenPort"), _value(section, "MTU"),
        tuple(_peer(node, conf.path, peer) for peer in conf.peers()), _must_match(conf))


def _must_match(conf: awgconf.AwgConf) -> tuple[tuple[str, str | None], ...]:
    stated = conf.params()
    values = []
    for name in params.MUST_MATCH_PARAMS:
        spec = params.spec(name)
        found = stated.get(name)
        value = found.effective if found is not None and not found.placeholder else None
        if spec is not None and (value is None or spec.reads_as_absent(value)):
            value = spec.default
        values.append((name, value))
    return tuple(values)


def _peer(node: str, path: str, section: awgconf.Section) -> PeerEntry:
    networks: list[tuple[Network, int]] = []
    for entry in section.all("AllowedIPs"):
        for item in _items(entry):
            try:
                networks.append((ipaddress.ip_network(item, strict=False), entry.line))
            except ValueError:
                continue
    return PeerEntry(node, path, section.line, _value(section, "PublicKey"), tuple(networks),
                     _value(section, "Endpoint"), _value(section, "PresharedKey"),
                     _value(section, "PersistentKeepalive"))


def _items(entry: awgconf.Entry) -> tuple[str, ...]:
    if entry.effective is None or entry.placeholder:
        return ()
    return tuple(i for i in entry.effective.replace(",", " ").split() if i)


def _value(section: awgconf.Section | None, name: str) -> Value | None:
    entry = section.get(name) if section is not None else None
    if entry is None or entry.effective is None or entry.placeholder:
        return None
    return Value(entry.effective, entry.line)
