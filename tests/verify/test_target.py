"""Which address ``verify --probe`` pings when ``--ping`` is not given."""

from __future__ import annotations

import pytest

from awgcheck.errors import UsageError
from awgcheck.parse import awgconf
from awgcheck.verify.target import Target, derive, explicit


def conf(interface: str, *allowed: str) -> awgconf.AwgConf:
    peers = "".join(f"[Peer]\nPublicKey = k{i}\nAllowedIPs = {a}\n" for i, a in enumerate(allowed))
    return awgconf.parse(f"[Interface]\n{interface}\n{peers}".encode(), "node.conf")


@pytest.mark.parametrize(("node", "source", "expected"), [
    (conf("Address = 10.77.0.3/24", "10.77.0.0/24"), conf("Address = 10.77.0.1/24"),
     Target("10.77.0.1", "the source's Address")),
    (conf("Address = 10.77.0.3/24", "10.77.0.0/24, 10.77.0.254/32"), None,
     Target("10.77.0.254", "the host route in the peer's AllowedIPs")),
    (conf("Address = fd00:77::3/64", "fd00:77::/64"), None,
     Target("fd00:77::1", "the first address of the mesh fd00:77::/64")),
    (conf("Address = 10.77.0.3/24", "0.0.0.0/0"), None, None),
    (conf("Address = 10.77.0.1/24", "10.77.0.0/24"), None, None),  # the hub itself
    (conf("Address = 10.77.0.3/24"), None, None),  # no peer
], ids=["source Address", "host route", "IPv6 mesh", "default route only",
        "the node is .1", "no peer"])
def test_derive(node: awgconf.AwgConf, source: awgconf.AwgConf | None,
                expected: Target | None) -> None:
    assert derive(node, source) == expected


def test_explicit_address_must_be_an_ip() -> None:
    assert explicit("10.77.0.1") == Target("10.77.0.1", "--ping")
    with pytest.raises(UsageError) as refused:
        explicit("10.77.0.1; id")
    assert str(refused.value) == "--ping 10.77.0.1; id: not an IP address"
