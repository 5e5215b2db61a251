"""A generated AmneziaWG mesh for tests: keys made at test time (never
committed), one conf per node, an inventory ``mesh:`` section, and the
faults tests plant in it.

``hub_and_spoke(names)`` / ``full_mesh(names)`` give a clean mesh: every
edge symmetric, AllowedIPs covering each tunnel address, Endpoints at the
hub's public address and ListenPort, one PresharedKey per edge. Tests
change a :class:`MeshNode` or a :class:`PeerSpec` to plant a fault, then
render the confs with :meth:`Mesh.conf`.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

CONF_REL = "etc/amnezia/amneziawg/awg0.conf"
PREFIX = "10.77.0.0/16"
PORT = 51820


def keypair() -> tuple[str, str]:
    """(private, public), base64, as `awg genkey | awg pubkey` would give."""
    key = X25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def preshared() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class PeerSpec:
    public_key: str
    allowed_ips: list[str]
    endpoint: str | None = None
    preshared_key: str | None = None
    keepalive: int | None = None


@dataclass
class MeshNode:
    name: str
    private_key: str
    public_key: str
    address: str
    listen_port: int | None = PORT
    mtu: int | None = None
    behind_nat: bool = False
    public_address: str | None = None
    peers: dict[str, PeerSpec] = field(default_factory=dict)  # by peer name


@dataclass
class Mesh:
    nodes: dict[str, MeshNode]
    topology: str
    hub: str | None = None
    external: list[dict[str, str]] = field(default_factory=list)

    def conf(self, name: str) -> str:
        node = self.nodes[name]
        lines = ["[Interface]", f"PrivateKey = {node.private_key}",
                 f"Address = {node.address}"]
        if node.listen_port is not None:
            lines.append(f"ListenPort = {node.listen_port}")
        if node.mtu is not None:
            lines.append(f"MTU = {node.mtu}")
        lines += ["Jc = 4", "Jmin = 40", "Jmax = 70", "S1 = 52", "S2 = 140", "S3 = 36",
                  "S4 = 18", "H1 = 1020325451", "H2 = 1288052141", "H3 = 1766607858",
                  "H4 = 2114195744"]
        for peer_name, peer in node.peers.items():
            lines += ["", f"# {peer_name}", "[Peer]", f"PublicKey = {peer.public_key}"]
            if peer.preshared_key is not None:
                lines.append(f"PresharedKey = {peer.preshared_key}")
            lines.append(f"AllowedIPs = {', '.join(peer.allowed_ips)}")
            if peer.endpoint is not None:
                lines.append(f"Endpoint = {peer.endpoint}")
            if peer.keepalive is not None:
                lines.append(f"PersistentKeepalive = {peer.keepalive}")
        return "\n".join(lines) + "\n"

    def line_of(self, name: str, text: str, after: str | None = None) -> int:
        """1-based line of the first line of ``name``'s conf that starts with
        ``text`` (after the line ``after``, when given)."""
        lines = self.conf(name).splitlines()
        start = lines.index(after) if after is not None else 0
        for number, line in enumerate(lines[start:], start + 1):
            if line.startswith(text):
                return number
        raise AssertionError(f"{text!r} not in {name}'s conf")

    def mesh_section(self) -> dict[str, Any]:
        section: dict[str, Any] = {"topology": self.topology, "prefix": PREFIX}
        if self.hub is not None:
            section["hub"] = self.hub
        if self.external:
            section["external_peers"] = self.external
        return section

    def node_fields(self, name: str) -> dict[str, Any]:
        node = self.nodes[name]
        fields: dict[str, Any] = {}
        if node.behind_nat:
            fields["behind_nat"] = True
        if node.public_address is not None:
            fields["public_address"] = node.public_address
        return fields

    def write_trees(self, root: Path) -> Path:
        """Each node as a local tree under ``root``; returns the inventory."""
        nodes = {}
        for name in self.nodes:
            conf = root / name / CONF_REL
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text(self.conf(name))
            nodes[name] = {"local": name, **self.node_fields(name)}
        return write_inventory(root / "fleet.yaml", self, nodes)


def write_inventory(path: Path, mesh: Mesh, nodes: dict[str, Any]) -> Path:
    first = next(iter(mesh.nodes))
    path.write_text(yaml.safe_dump({"source": mesh.hub or first, "nodes": nodes,
                                    "mesh": mesh.mesh_section()}, sort_keys=False))
    return path


def _node(name: str, index: int) -> MeshNode:
    private, public = keypair()
    return MeshNode(name, private, public, f"10.77.{index // 250}.{index % 250 + 1}/16",
                    public_address=f"203.0.113.{index % 250 + 1}" if index < 250 else None)


def hub_and_spoke(names: list[str]) -> Mesh:
    """The first name is the hub; every spoke lists the hub (Endpoint at its
    public address, AllowedIPs the mesh prefix, keepalive 25)."""
    nodes = {name: _node(name, i) for i, name in enumerate(names)}
    hub = nodes[names[0]]
    for spoke in list(nodes.values())[1:]:
        psk = preshared()
        hub.peers[spoke.name] = PeerSpec(spoke.public_key, [_host(spoke.address)],
                                         preshared_key=psk)
        spoke.peers[hub.name] = PeerSpec(hub.public_key, [PREFIX],
                                         f"{hub.public_address}:{PORT}", psk, 25)
    return Mesh(nodes, "hub-and-spoke", hub.name)


def full_mesh(names: list[str]) -> Mesh:
    """Every node lists every other, with its Endpoint and /32."""
    nodes = {name: _node(name, i) for i, name in enumerate(names)}
    listed = list(nodes.values())
    for i, a in enumerate(listed):
        for b in listed[i + 1:]:
            psk = preshared()
            a.peers[b.name] = PeerSpec(b.public_key, [_host(b.address)],
                                       f"{b.public_address}:{PORT}", psk)
            b.peers[a.name] = PeerSpec(a.public_key, [_host(a.address)],
                                       f"{a.public_address}:{PORT}", psk)
    return Mesh(nodes, "full-mesh")


def _host(address: str) -> str:
    ip = address.split("/")[0]
    return f"{ip}/128" if ":" in ip else f"{ip}/32"
