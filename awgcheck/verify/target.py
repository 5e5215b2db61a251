"""Which address ``verify --probe`` pings: the hub's mesh address.

In order: ``--ping ADDR``; the source conf's own ``Address`` (a hub conf
names its mesh IP there, as triage uses it); a host route (``/32``,
``/128``) in a ``[Peer]``'s AllowedIPs of the node's conf (a partner that
reaches only the hub); else the first address of the mesh network that
holds the node's own ``Address`` and that a peer's AllowedIPs route (the
convention that the hub is ``.1``). Each is validated as an IP address
before it reaches a command line.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from awgcheck.errors import UsageError
from awgcheck.model import ParamDocument
from awgcheck.parse.awgconf import AwgConf
from awgcheck.triage.evidence import mesh_address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Target:
    address: str
    chosen_by: str  # said in the OK line and the JSON


def explicit(text: str) -> Target:
    """``--ping ADDR``; anything but an IP address is a usage error."""
    try:
        return Target(str(ipaddress.ip_address(text)), "--ping")
    except ValueError:
        raise UsageError(f"--ping {text}: not an IP address") from None


def derive(conf: AwgConf | None, source: ParamDocument | None) -> Target | None:
    """The hub's mesh address from the source or the node's conf, or None."""
    stated = mesh_address(source)
    if stated is not None:
        return Target(stated, "the source's Address")
    if conf is None:
        return None
    routes = [net for peer in conf.peers() for net in _networks(peer.items("AllowedIPs"))]
    host = next((n for n in routes if n.num_addresses == 1), None)
    if host is not None:
        return Target(str(host.network_address), "the host route in the peer's AllowedIPs")
    own = conf.interface()
    for address in _interfaces(own.items("Address") if own is not None else ()):
        for net in routes:
            if address.version == net.version and address in net \
                    and net.num_addresses > 2:
                first = next(net.hosts())
                if first != address.ip:
                    return Target(str(first), f"the first address of the mesh {net}")
    return None


def _networks(items: tuple[str, ...]) -> list[Network]:
    found = []
    for item in items:
        try:
            net = ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            continue
        if net.prefixlen > 0:  # 0.0.0.0/0 routes everything and names no hub
            found.append(net)
    return found


def _interfaces(items: tuple[str, ...]) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
    found = []
    for item in items:
        try:
            found.append(ipaddress.ip_interface(item.strip()))
        except ValueError:
            continue
    return found
