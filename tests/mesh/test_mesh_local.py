"""The mesh checks end to end on local node trees: `awgcheck check` on a
faulty hub-and-spoke fleet reports each planted fault on the right node,
with both ends; a clean 50-node mesh reports none."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mesh_fleet
import paths
import pytest
from faults import NAMES, expected_set, faulty_fleet, found
from in_process import awgcheck

from awgcheck import audit, selection
from awgcheck import inventory as inventory_file
from awgcheck.model import Status
from awgcheck.ruleset import load as ruleset


def _check(inventory: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    return awgcheck("check", "-i", str(inventory), "--format", fmt)


def test_mesh_faults_reported_on_the_right_nodes_with_both_ends(tmp_path: Path) -> None:
    mesh, expected = faulty_fleet()
    proc = _check(mesh.write_trees(tmp_path), "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert found(report) == expected_set(expected)
    by_key = {(f["rule"], f["node"], f["location"]["line"]): f for f in report["findings"]
              if f["status"] == "fail"}
    for e in expected:
        finding = by_key[(e.rule, e.node, e.line)]
        assert e.message in finding["message"], finding["message"]
        assert finding["symptom"], finding
        if e.other not in (None, e.node):
            assert e.other in finding["message"], finding["message"]
    statuses = {n["name"]: n["status"] for n in report["nodes"]}
    failing = {e.node for e in expected if e.rule not in ("mesh-mtu", "mesh-keepalive-nat")}
    assert {name for name, s in statuses.items() if s == "fail"} == failing
    # the declared external peer is recognised, not a stranger
    assert any(f["rule"] == "mesh-peer-known" and f["status"] == "pass"
               and "external peer phone" in f["message"] for f in report["findings"])


def test_mesh_findings_in_every_format_name_both_ends(tmp_path: Path) -> None:
    mesh, _ = faulty_fleet()
    inventory = mesh.write_trees(tmp_path)
    secrets = [n.private_key for n in mesh.nodes.values()]
    secrets += [p.preshared_key for n in mesh.nodes.values() for p in n.peers.values()
                if p.preshared_key]
    sarif = json.loads(_check(inventory, "sarif").stdout)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "mesh-mtu"]
    [mtu] = results
    assert mtu["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] \
        .endswith("hub/etc/amnezia/amneziawg/awg0.conf")
    for fmt in ("table", "json", "sarif", "junit", "markdown", "github"):
        out = _check(inventory, fmt).stdout
        # Markdown escapes the brackets of "[Peer]"
        assert "spoke2 has no" in out and "for hub, but hub (" in out, fmt
        assert "hub/etc/amnezia/amneziawg/awg0.conf:" in out, fmt
        for secret in secrets:
            assert secret not in out, fmt


def test_clean_mesh_of_50_nodes_reports_no_mesh_failure(tmp_path: Path) -> None:
    mesh = mesh_fleet.full_mesh([f"n{i:02}" for i in range(50)])
    inventory = inventory_file.load(mesh.write_trees(tmp_path))
    rules = ruleset.RuleSet(r for r in ruleset.load_shipped().rules
                            if r.id.startswith("mesh-"))
    report = audit.audit(inventory, rules)
    statuses = {f.status for f in report.findings}
    assert Status.FAIL not in statuses and Status.ERROR not in statuses
    passed = {f.rule for f in report.findings if f.status is Status.PASS}
    # every rule checked something (keepalive: no node is behind NAT here)
    assert passed == {r.id for r in rules.rules} - {"mesh-keepalive-nat"}
    # each of the 50 * 49 [Peer] entries was matched with its node
    known = [f for f in report.findings if f.rule == "mesh-peer-known"]
    assert len(known) == 50 * 49


@pytest.mark.parametrize("size", [12])
def test_clean_hub_and_spoke_reports_no_mesh_failure(tmp_path: Path, size: int) -> None:
    mesh = mesh_fleet.hub_and_spoke(NAMES[:size])
    report = json.loads(_check(mesh.write_trees(tmp_path), "json").stdout)
    assert found(report) == set()


def test_docs_topology_shows_what_check_says(tmp_path: Path) -> None:
    """docs/topology.md quotes findings of this very fleet (node trees under
    nodes/): each quoted message and symptom is what the run says."""
    mesh, _ = faulty_fleet()
    report = json.loads(_check(mesh.write_trees(tmp_path / "nodes"), "json").stdout)
    said = {(f["node"], f["rule"], f["severity"], f["message"].replace(f"{tmp_path}/", ""),
             f["symptom"]) for f in report["findings"] if f["status"] == "fail"}
    text = (paths.ROOT / "docs" / "topology.md").read_text()
    block = text.split("```\nspoke2  mesh-edges-symmetric", 1)[1].split("```", 1)[0]
    lines = ("spoke2  mesh-edges-symmetric" + block).strip().splitlines()
    quoted = set()
    for head, message, symptom in zip(lines[::3], lines[1::3], lines[2::3], strict=True):
        node, rule, severity = head.split()
        quoted.add((node, rule, severity, message.removeprefix("  message: "),
                    symptom.removeprefix("  symptom: ")))
    assert len(quoted) == 4
    assert quoted <= said


def test_a_selection_skips_edges_to_nodes_it_did_not_read(tmp_path: Path) -> None:
    """--node hub reads only the hub: its edges to the spokes are not
    compared (said as skips), and no fault of a spoke is invented."""
    mesh, _ = faulty_fleet()
    fleet = inventory_file.load(mesh.write_trees(tmp_path))
    rules = ruleset.RuleSet(r for r in ruleset.load_shipped().rules
                            if r.id.startswith("mesh-"))
    report = audit.audit(fleet, rules, selection=selection.select(fleet, ["hub"]))
    assert {n.name for n in report.nodes} == {"hub"}
    # The spokes' keys are unknown (their confs were not read): their entries
    # are said to be unjudged, never passed or failed.
    known = [f for f in report.findings if f.rule == "mesh-peer-known"]
    assert {f.status for f in known} == {Status.SKIP, Status.PASS}  # phone is declared
    assert any("may be one of the nodes not read in this run" in f.message for f in known)
    symmetric = [f for f in report.findings if f.rule == "mesh-edges-symmetric"]
    assert {f.status for f in symmetric} == {Status.SKIP}
    assert any(f.message == "not compared: node spoke3 was not read in this run"
               for f in symmetric)
    assert not [f for f in report.findings if f.rule == "mesh-allowed-ips-cover"]
    failed = {(f.rule, f.param) for f in report.findings if f.status is Status.FAIL}
    # the hub's own overlap is still its own fault
    line = mesh.line_of("hub", "[Peer]", "# spoke7")
    assert failed == {("mesh-allowed-ips-disjoint", f"peer line {line}")}
