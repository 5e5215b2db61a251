"""`awgcheck topology`: the mesh as JSON, Mermaid and Graphviz dot, nodes
by their check status and each edge by its state, both ends located."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import mesh_fleet
from faults import faulty_fleet
from in_process import awgcheck
from mesh_fleet import CONF_REL, Mesh


def _topology(inventory: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    return awgcheck("topology", "-i", str(inventory), "--format", fmt)


def _faulty_with_drift(root: Path) -> tuple[Path, Mesh]:
    mesh, _ = faulty_fleet()
    inventory = mesh.write_trees(root)
    conf = root / "spoke1" / CONF_REL  # S4 17 against the hub's 18: must-match drift
    conf.write_text(conf.read_text().replace("S4 = 18", "S4 = 17"))
    return inventory, mesh


def test_topology_json_gives_each_edge_its_state_and_both_ends(tmp_path: Path) -> None:
    inventory, mesh = _faulty_with_drift(tmp_path)
    proc = _topology(inventory, "json")
    assert proc.returncode == 0, proc.stderr
    picture = json.loads(proc.stdout)
    states = {(e["a"], e["b"]): (e["state"], e["detail"]) for e in picture["edges"]}
    stale = next(b for a, b in states if a == "spoke1" and b.startswith("key "))
    assert states == {
        ("hub", "spoke1"): ("drift", "S4 18 / 17"),
        ("hub", "spoke2"): ("one-sided", "spoke2 has no [Peer] for hub"),
        ("hub", "spoke3"): ("allowed-ips-gap", "hub's AllowedIPs for spoke3 miss 10.77.0.4"),
        ("hub", "spoke4"): ("allowed-ips-gap", "hub's AllowedIPs for spoke4 miss 10.77.0.6"),
        ("hub", "spoke5"): ("ok", ""),
        ("hub", "spoke6"): ("ok", ""),
        ("hub", "spoke7"): ("failing", "mesh-allowed-ips-disjoint on hub; "
                                       "mesh-endpoint on spoke7"),
        ("hub", "spoke8"): ("key-mismatch", "the PresharedKeys differ"),
        ("hub", "spoke9"): ("failing", "mesh-mtu on spoke9"),
        ("hub", "spoke10"): ("failing", "mesh-keepalive-nat on spoke10"),
        ("hub", "spoke11"): ("failing", "mesh-endpoint on spoke11"),
        ("hub", "phone"): ("external", ""),
        ("spoke1", stale): ("key-mismatch", "no node holds this key"),
    }
    status = {n["name"]: n["status"] for n in picture["nodes"]}
    assert status["spoke1"] == "fail" and status["spoke3"] == "pass"
    assert status["phone"] == "external" and status[stale] == "unknown"
    [edge] = [e for e in picture["edges"] if e["b"] == "spoke8"]
    assert [(end["node"], end["line"]) for end in edge["ends"]] == [
        ("hub", mesh.line_of("hub", "[Peer]", "# spoke8")),
        ("spoke8", mesh.line_of("spoke8", "[Peer]", "# hub"))]
    assert edge["ends"][0]["path"] == str(tmp_path / "hub" / CONF_REL)
    [one_sided] = [e for e in picture["edges"] if e["b"] == "spoke2"]
    assert [end["node"] for end in one_sided["ends"]] == ["hub"]


def test_topology_dot_is_read_by_graphviz(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", 'we"ird \\ name', "spoke"])
    proc = _topology(mesh.write_trees(tmp_path), "dot")
    assert proc.returncode == 0, proc.stderr
    svg = subprocess.run(["dot", "-Tsvg"], input=proc.stdout, capture_output=True, text=True,
                         check=True).stdout
    assert "we&quot;ird \\ name" in svg
    assert proc.stdout.count(" -- ") == 2 and 'color="#2e7d32"' in proc.stdout


def test_topology_mermaid_names_every_node_and_colours_every_edge(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", 'a"b|c', "spoke"])
    del mesh.nodes["spoke"].peers["hub"]
    text = _topology(mesh.write_trees(tmp_path), "mermaid").stdout
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    assert '  n1["a#quot;b#124;c"]:::pass' in lines
    assert '  n0 ---|"one-sided: spoke has no [Peer] for hub"| n2' in lines
    assert "  linkStyle 1 stroke:#c62828,stroke-width:2px" in lines


def test_topology_without_a_mesh_section_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text("source: a\nnodes:\n  a: {local: a}\n")
    proc = _topology(tmp_path / "fleet.yaml", "json")
    assert proc.returncode == 2
    assert "has no 'mesh:' section to draw" in proc.stderr and "Traceback" not in proc.stderr


HOSTILE = "evil\x1b[31mRED\x1b]52;c;aGk=\x07 <img src=x onerror=alert(1)> \"q\" | [x](y)"


def test_topology_escapes_a_hostile_node_name_in_every_format(tmp_path: Path) -> None:
    mesh = mesh_fleet.hub_and_spoke(["hub", HOSTILE])
    inventory = mesh.write_trees(tmp_path)
    for fmt in ("json", "mermaid", "dot"):
        out = _topology(inventory, fmt).stdout
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out), fmt
        assert "\\x1b[31mRED" in out, fmt  # shown, escaped
        if fmt == "json":
            assert any(n["name"].startswith("evil\\x1b") for n in json.loads(out)["nodes"])
        elif fmt == "dot":
            subprocess.run(["dot", "-Tsvg"], input=out, text=True, check=True,
                           capture_output=True)
        else:
            assert "<img" not in out and "#lt;img" in out


def test_rules_show_says_a_mesh_rule_reads_every_node() -> None:
    proc = awgcheck("rules", "show", "mesh-mtu")
    assert ("reads:       conf, and every other node's (the inventory's mesh:, "
            "docs/topology.md)") in proc.stdout
