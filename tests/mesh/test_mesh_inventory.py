"""The inventory's mesh: section and node fields: read into settings, and
every mistake an error that names the file, the line and the key."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import mesh_fleet
import pytest

from awgcheck import inventory
from awgcheck.errors import InventoryError
from awgcheck.mesh.settings import Topology

NODES = """\
source: hub
nodes:
  hub: {local: hub, public_address: vpn.example.net}
  spoke: {local: spoke, behind_nat: true}
"""


def _load(tmp_path: Path, mesh: str) -> inventory.Inventory:
    path = tmp_path / "fleet.yaml"
    path.write_text(NODES + mesh)
    return inventory.load(path)


def test_mesh_section_is_read(tmp_path: Path) -> None:
    key = mesh_fleet.keypair()[1]
    fleet = _load(tmp_path, f"""\
mesh:
  topology: hub-and-spoke
  prefix: [10.77.0.0/16, "fd77::/64"]
  external_peers:
    - {{name: phone, public_key: "{key}", address: 198.51.100.4}}
""")
    assert fleet.mesh is not None
    assert fleet.mesh.topology is Topology.HUB_AND_SPOKE
    assert fleet.mesh.hub == "hub"  # the source node, by default
    assert fleet.mesh.prefixes == (ipaddress.ip_network("10.77.0.0/16"),
                                   ipaddress.ip_network("fd77::/64"))
    [phone] = fleet.mesh.external
    assert (phone.name, phone.public_key, phone.address, phone.line) == (
        "phone", key, "198.51.100.4", 9)
    assert fleet.node("spoke").behind_nat and not fleet.node("hub").behind_nat
    assert fleet.node("hub").public_address == ("vpn.example.net",)


def test_no_mesh_section_means_no_mesh(tmp_path: Path) -> None:
    assert _load(tmp_path, "").mesh is None


@pytest.mark.parametrize(("mesh", "message"), [
    ("mesh:\n  topolgy: full-mesh\n",
     "fleet.yaml:6: mesh: unknown key 'topolgy' (allowed: topology, hub, prefix, "
     "external_peers)"),
    ("mesh:\n  topology: star\n",
     "fleet.yaml:6: mesh: key 'topology' must be one of hub-and-spoke, full-mesh, got 'star'"),
    ("mesh:\n  topology: full-mesh\n  hub: hub\n",
     "fleet.yaml:7: mesh: key 'hub' needs 'topology: hub-and-spoke'"),
    ("mesh:\n  topology: hub-and-spoke\n  hub: center\n",
     "fleet.yaml:7: mesh: key 'hub': 'center' is no node of the inventory"),
    ("mesh:\n  prefix: 10.77.0.1/16\n",
     "fleet.yaml:6: mesh: key 'prefix': '10.77.0.1/16' is not a network such as "
     "10.77.0.0/16 (10.77.0.1/16 has host bits set)"),
    ("mesh:\n  external_peers:\n    - {name: phone}\n",
     "fleet.yaml:7: mesh: external_peers 1: missing required key 'public_key'"),
    ("mesh:\n  external_peers:\n    - {name: phone, public_key: abc}\n",
     "fleet.yaml:7: mesh: external_peers 1: key 'public_key' is not a WireGuard key"),
    ("mesh:\n  external_peers:\n    - {name: spoke, public_key: abc}\n",
     "fleet.yaml:7: mesh: external_peers 1: name 'spoke' is a node of the inventory"),
    ("mesh:\n  external_peers:\n    - {name: phone, pubkey: abc}\n",
     "fleet.yaml:7: mesh: external_peers 1: unknown key 'pubkey'"),
    ("mesh:\n  external_peers: phone\n",
     "fleet.yaml:6: mesh: key 'external_peers' must be a list"),
    ("mesh: [full-mesh]\n",
     "fleet.yaml:5: mesh: must be a mapping"),
], ids=["unknown-key", "bad-topology", "hub-without-hub-and-spoke", "hub-not-a-node",
        "prefix-host-bits", "peer-without-key", "peer-bad-key", "peer-is-a-node",
        "peer-unknown-key", "peers-not-a-list", "mesh-not-a-mapping"])
def test_mesh_mistakes_name_file_line_and_key(tmp_path: Path, mesh: str, message: str) -> None:
    with pytest.raises(InventoryError) as caught:
        _load(tmp_path, mesh)
    assert str(caught.value).startswith(str(tmp_path / "fleet.yaml"))
    assert message in str(caught.value)


def test_duplicate_external_key_names_the_first(tmp_path: Path) -> None:
    key = mesh_fleet.keypair()[1]
    with pytest.raises(InventoryError, match=r"fleet.yaml:8: mesh: external_peers 2: "
                                             r"public_key is also 'a''s \(line 7\)"):
        _load(tmp_path, f"mesh:\n  external_peers:\n    - {{name: a, public_key: '{key}'}}\n"
                        f"    - {{name: b, public_key: '{key}'}}\n")


def test_behind_nat_must_be_a_bool_and_the_cli_says_so(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text("source: hub\nnodes:\n  hub: {local: hub, behind_nat: yes-ish}\n")
    proc = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "nodes: hub: key 'behind_nat' must be true or false, got 'yes-ish'" in proc.stderr
    assert "Traceback" not in proc.stderr
