"""The inventory's ``mesh:`` section: what the fleet's tunnels should be.

```yaml
mesh:
  topology: hub-and-spoke      # or full-mesh; leave out: only symmetry is required
  hub: server                  # hub-and-spoke only; default: the source node
  prefix: [10.77.0.0/16, fd77::/64]   # every tunnel Address lies inside one
  external_peers:              # peers that are no node of the fleet
    - {name: phone-alice, public_key: "...=", address: 198.51.100.4}
```

Read from the YAML nodes, so every error names the file, the line and the
key. An Ansible inventory declares the same mapping in the var
``awgcheck_mesh``; its listing has no lines, so there errors lead with the
file and the var instead. A fleet without ``mesh:`` is not checked as a
mesh at all.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections.abc import Callable, Collection
from dataclasses import dataclass

import yaml

from awgcheck import params
from awgcheck.errors import InventoryError
from awgcheck.known_keys import mapping_fields
from awgcheck.secrecy import scrub

KEY = "mesh"
_FIELDS = ("topology", "hub", "prefix", "external_peers")
_PEER_FIELDS = ("name", "public_key", "address", "description")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Topology(enum.StrEnum):
    HUB_AND_SPOKE = "hub-and-spoke"
    FULL_MESH = "full-mesh"


@dataclass(frozen=True)
class ExternalPeer:
    """A peer the fleet's confs may list that is no node of the inventory
    (a phone, a partner's router): known by its public key only."""

    name: str
    public_key: str
    address: str | None = None  # its public address, when it has a fixed one
    line: int | None = None


@dataclass(frozen=True)
class MeshSettings:
    origin: str  # the inventory file
    line: int  # of the mapping; meaningless when `said` is set
    topology: Topology | None = None
    hub: str | None = None
    prefixes: tuple[Network, ...] = ()
    external: tuple[ExternalPeer, ...] = ()
    said: str | None = None  # where it was declared when no line says it (an Ansible var)

    @property
    def declared(self) -> str:
        """Where the section is, for a message: ``file:line`` or ``file: var NAME``."""
        return self.said or f"{self.origin}:{self.line}"

    def declared_at(self, line: int | None) -> str:
        """Where a part of the section is (an external peer at ``line``):
        ``file:line``, or ``file: var NAME`` where no line says it."""
        return self.said or (f"{self.origin}:{line}" if line else self.declared)


def parse(node: yaml.Node, origin: str, nodes: Collection[str],
          source_node: str | None, said: str | None = None) -> MeshSettings:
    """The ``mesh:`` mapping ``node`` of inventory ``origin`` whose node
    names are ``nodes``; raises :class:`InventoryError` naming file:line and
    key. ``said`` (``file: var awgcheck_mesh``) replaces ``file:line: mesh``
    in errors when ``node`` was made from a value with no lines of its own."""

    def place(part: yaml.Node) -> str:
        return said if said is not None else f"{origin}:{_line(part)}: {KEY}"

    where = place(node)
    if not isinstance(node, yaml.MappingNode):
        raise InventoryError(f"{where}: must be a mapping of {', '.join(_FIELDS)}")
    fields = mapping_fields(node, _FIELDS, place, InventoryError)

    def at(key: str) -> str:
        return f"{place(fields[key])}: key '{key}'"

    topology = None
    if "topology" in fields:
        word = _text(fields["topology"])
        try:
            topology = Topology(word or "")
        except ValueError:
            allowed = ", ".join(t.value for t in Topology)
            raise InventoryError(f"{at('topology')} must be one of {allowed}, "
                                 f"got {scrub(str(fields['topology'].value))!r}") from None
    hub = None
    if "hub" in fields:
        hub = _text(fields["hub"])
        if topology is not Topology.HUB_AND_SPOKE:
            raise InventoryError(f"{at('hub')} needs 'topology: hub-and-spoke'")
        if hub not in nodes:
            raise InventoryError(f"{at('hub')}: {scrub(str(hub))!r} is no node of the inventory")
    elif topology is Topology.HUB_AND_SPOKE:
        if source_node is None:
            raise InventoryError(f"{where}: 'topology: hub-and-spoke' needs 'hub' (the source "
                                 "is a file, not a node)")
        hub = source_node
    prefixes = _prefixes(fields["prefix"], at("prefix")) if "prefix" in fields else ()
    external = (_external(fields["external_peers"], place, nodes, said is None)
                if "external_peers" in fields else ())
    return MeshSettings(origin, _line(node), topology, hub, prefixes, external, said)


def _prefixes(node: yaml.Node, where: str) -> tuple[Network, ...]:
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    found = []
    for item in items:
        text = _text(item)
        try:
            found.append(ipaddress.ip_network(text or "", strict=True))
        except ValueError as exc:
            raise InventoryError(f"{where}: {scrub(str(item.value))!r} is not a network "
                                 f"such as 10.77.0.0/16 ({exc})") from None
    return tuple(found)


def _external(node: yaml.Node, place: Callable[[yaml.Node], str], nodes: Collection[str],
              has_lines: bool) -> tuple[ExternalPeer, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise InventoryError(f"{place(node)}: key 'external_peers' must be a "
                             "list of {name, public_key, address}")
    def peer_place(number: int, part: yaml.Node) -> str:
        return f"{place(part)}: external_peers {number}"

    peers: list[ExternalPeer] = []
    for index, item in enumerate(node.value, 1):
        where = f"{place(item)}: external_peers {index}"
        if not isinstance(item, yaml.MappingNode):
            raise InventoryError(f"{where}: must be a mapping of {', '.join(_PEER_FIELDS)}")
        fields: dict[str, str] = {}
        for key, value in mapping_fields(item, _PEER_FIELDS, functools.partial(peer_place, index),
                                         InventoryError).items():
            text = _text(value)
            if text is None:
                raise InventoryError(f"{place(value)}: external_peers {index}: "
                                     f"key '{key}' must be a string")
            fields[key] = text
        for required in ("name", "public_key"):
            if required not in fields:
                raise InventoryError(f"{where}: missing required key '{required}'")
        name, key = fields["name"], fields["public_key"]
        if name in nodes:
            raise InventoryError(f"{where}: name {name!r} is a node of the inventory; an "
                                 "external peer is one that is not")
        if params.read_key(key).error is not None:
            raise InventoryError(f"{where}: key 'public_key' is not a WireGuard key (44 "
                                 "characters of base64)")
        for number, other in enumerate(peers, 1):
            # a value without lines of its own is placed by its position
            first = f"line {other.line}" if has_lines else f"external_peers {number}"
            if other.name == name:
                raise InventoryError(f"{where}: name {name!r} is declared twice (first at "
                                     f"{first})")
            if other.public_key == key:
                raise InventoryError(f"{where}: public_key is also {other.name!r}'s "
                                     f"({first})")
        peers.append(ExternalPeer(name, key, fields.get("address"),
                                  _line(item) if has_lines else None))
    return tuple(peers)


def _text(node: yaml.Node) -> str | None:
    """A scalar's text (not null), else None."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
