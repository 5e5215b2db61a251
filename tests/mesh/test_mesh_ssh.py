"""The mesh checks over real sshd: the same faulty hub-and-spoke fleet as
the local-tree test, each node served by OpenSSH on loopback, read by
`awgcheck check`; every planted fault is reported on its node with both
ends, and no key or preshared key reaches the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from faults import NAMES, expected_set, faulty_fleet, found
from mesh_fleet import CONF_REL, write_inventory
from sshd_fleet import SshdFleet


def test_mesh_faults_over_ssh(tmp_path: Path) -> None:
    mesh, expected = faulty_fleet()
    with SshdFleet(nodes_wanted=len(NAMES)) as fleet:
        nodes = {}
        for name, served in zip(NAMES, fleet.nodes, strict=True):
            served.write(CONF_REL, mesh.conf(name), 0o600)
            nodes[name] = fleet.inventory_fields(served, **mesh.node_fields(name))
        inventory = write_inventory(tmp_path / "fleet.yaml", mesh, nodes)
        env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
        proc = subprocess.run(
            [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory), "--format",
             "json", "--ssh-config", "none", "--timeout", "30"],
            capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert {n["status"] for n in report["nodes"]} <= {"pass", "fail"}, report["nodes"]
    assert found(report) == expected_set(expected)
    # both ends are named by the path on their own node
    [one_sided] = [f for f in report["findings"]
                   if f["rule"] == "mesh-edges-symmetric" and f["status"] == "fail"]
    hub = fleet.nodes[0]
    # the other end is located on its own node: host and port apart from the path
    assert one_sided["related"] == {"node": "hub", "location": {
        "host": hub.host, "port": hub.port, "path": hub.conf_path,
        "line": mesh.line_of("hub", "[Peer]", "# spoke2")}}
    assert f"{hub.host}:{hub.port}:{hub.conf_path}:" in one_sided["message"]
    for node in mesh.nodes.values():
        assert node.private_key not in proc.stdout + proc.stderr
        for peer in node.peers.values():
            assert not peer.preshared_key or peer.preshared_key not in proc.stdout
