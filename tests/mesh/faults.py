"""The faulty test fleet: a hub and eleven spokes, one planted fault per
spoke (or per hub entry), and what each must produce: the rule, the node it
is reported on, the line there, and the other end (node and line).

Shared by the local-tree and the real-sshd tests, so both check the same
faults the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesh_fleet
from mesh_fleet import PORT, Mesh

NAMES = ["hub", *(f"spoke{i}" for i in range(1, 12))]


@dataclass(frozen=True)
class Expected:
    rule: str
    node: str
    line: int
    other: str | None  # the node of the related location
    other_line: int | None
    message: str  # a part of the message


def faulty_fleet() -> tuple[Mesh, list[Expected]]:
    mesh = mesh_fleet.hub_and_spoke(NAMES)
    n = mesh.nodes
    phone_private, phone_public = mesh_fleet.keypair()
    del phone_private  # only its public key is ever written
    mesh.external.append({"name": "phone", "public_key": phone_public,
                          "address": "198.51.100.4"})
    n["hub"].peers["phone"] = mesh_fleet.PeerSpec(phone_public, ["10.77.9.1/32"])
    n["spoke10"].behind_nat = True

    # spoke1 lists a peer no one holds (a stale key)
    n["spoke1"].peers["stale"] = mesh_fleet.PeerSpec(mesh_fleet.keypair()[1],
                                                     ["10.99.8.8/32"])
    # spoke2 forgot the hub: the hub still lists spoke2
    del n["spoke2"].peers["hub"]
    # the hub's AllowedIPs for spoke3 miss spoke3's address
    n["hub"].peers["spoke3"].allowed_ips = ["10.77.0.99/32"]
    # spoke4 took spoke5's address (the hub still routes spoke4's old one)
    n["spoke4"].address = n["spoke5"].address
    # the hub's entry for spoke6 also holds spoke7's /32
    n["hub"].peers["spoke6"].allowed_ips.append(n["hub"].peers["spoke7"].allowed_ips[0])
    # spoke7 dials the wrong port
    n["spoke7"].peers["hub"].endpoint = f"{n['hub'].public_address}:{PORT + 1}"
    # spoke8's PresharedKey for the hub differs from the hub's for spoke8
    n["spoke8"].peers["hub"].preshared_key = mesh_fleet.preshared()
    # spoke9 runs a smaller MTU than the hub (which sets none: 1420)
    n["spoke9"].mtu = 1380
    # spoke10 is behind NAT and has no keepalive
    n["spoke10"].peers["hub"].keepalive = None
    # spoke11 dials a host that is not the hub
    n["spoke11"].peers["hub"].endpoint = f"192.0.2.99:{PORT}"

    def line(node: str, text: str, after: str | None = None) -> int:
        return mesh.line_of(node, text, after)

    def peer(node: str, of: str) -> int:
        return line(node, "[Peer]", f"# {of}")

    expected = [
        Expected("mesh-peer-known", "spoke1", line("spoke1", "PublicKey", "# stale"), None,
                 None, "is no node of the fleet"),
        Expected("mesh-edges-symmetric", "spoke2", 1, "hub", peer("hub", "spoke2"),
                 "spoke2 has no [Peer] for hub"),
        Expected("mesh-allowed-ips-cover", "hub", line("hub", "AllowedIPs", "# spoke3"),
                 "spoke3", 3, "do not cover spoke3's tunnel address 10.77.0.4"),
        Expected("mesh-address-unique", "spoke4", 3, "spoke5", 3,
                 "10.77.0.6 is spoke4's tunnel address and spoke5's"),
        Expected("mesh-address-unique", "spoke5", 3, "spoke4", 3,
                 "10.77.0.6 is spoke5's tunnel address and spoke4's"),
        Expected("mesh-allowed-ips-cover", "hub", line("hub", "AllowedIPs", "# spoke4"),
                 "spoke4", 3, "do not cover spoke4's tunnel address 10.77.0.6"),
        Expected("mesh-allowed-ips-disjoint", "hub", line("hub", "AllowedIPs", "# spoke7"),
                 "hub", line("hub", "AllowedIPs", "# spoke6"),
                 "10.77.0.8/32 is held by spoke6"),
        Expected("mesh-endpoint", "spoke7", line("spoke7", "Endpoint"), "hub", 4,
                 f"is port {PORT + 1}, but hub listens on {PORT}"),
        Expected("mesh-preshared-key", "spoke8", line("spoke8", "PresharedKey"), "hub",
                 line("hub", "PresharedKey", "# spoke8"), "PresharedKey for hub is sha256:"),
        Expected("mesh-mtu", "spoke9", line("spoke9", "MTU"), "hub", 1,
                 "MTU is 1380 on spoke9"),
        Expected("mesh-keepalive-nat", "spoke10", peer("spoke10", "hub"), "hub",
                 peer("hub", "spoke10"), "spoke10 is behind NAT"),
        Expected("mesh-endpoint", "spoke11", line("spoke11", "Endpoint"), "hub", 1,
                 "is host 192.0.2.99, but the inventory has hub ("),
    ]
    return mesh, expected


def found(report: dict[str, object]) -> set[tuple[str, str, int, str | None, int | None]]:
    """The failing mesh findings of a JSON report, as Expected's first five fields."""
    out = set()
    for f in report["findings"]:  # type: ignore[attr-defined]
        if f["status"] != "fail" or not f["rule"].startswith("mesh-"):
            continue
        related = f.get("related")
        out.add((f["rule"], f["node"], f["location"]["line"],
                 related["node"] if related else None,
                 related["location"]["line"] if related else None))
    return out


def expected_set(expected: list[Expected]) -> set[tuple[str, str, int, str | None,
                                                        int | None]]:
    return {(e.rule, e.node, e.line, e.other, e.other_line) for e in expected}
