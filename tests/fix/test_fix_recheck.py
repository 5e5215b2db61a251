"""``fix``'s exit code is ``check``'s verdict on the fixed node: the
re-check after the fix runs every rule ``check`` runs on the node, on its
compose project too (with the fixed conf in place of the old one), so what
fix cannot change is listed as remaining rather than passed over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mesh_fleet
import paths
import pytest
from in_process import awgcheck


def _verdicts(inventory: Path, node: str, *fix_args: str) -> tuple[tuple[int, set[str]],
                                                                    tuple[int, set[str]]]:
    """(exit code, failing rules) of ``fix NODE`` and of ``check --node NODE`` after it."""
    fixed = awgcheck("fix", node, "-i", str(inventory), "--format", "json", *fix_args)
    assert fixed.returncode in (0, 1), fixed.stderr
    remaining = {f["rule"] for f in json.loads(fixed.stdout)["remaining"]}
    checked = awgcheck("check", "-i", str(inventory), "--node", node, "--format", "json")
    failing = {f["rule"] for f in json.loads(checked.stdout)["findings"]
               if f["status"] == "fail" and f["severity"] in ("error", "critical")}
    return (fixed.returncode, remaining), (checked.returncode, failing)


def _demo(tmp_path: Path) -> Path:
    shutil.copytree(paths.DEMO, tmp_path / "demo")
    return tmp_path / "demo" / "fleet.yaml"


@pytest.mark.parametrize("node", ["partner-tbilisi", "partner-berlin", "partner-almaty"])
def test_fix_exit_code_is_what_check_says_of_the_node_after_it(tmp_path: Path,
                                                                node: str) -> None:
    """The demo's Tbilisi has S4 drift (fix changes it) and a relay bound
    to 0.0.0.0 in its compose project (fix cannot): fix must say the node
    still fails, naming the compose rule, as check then does."""
    fixed, checked = _verdicts(_demo(tmp_path), node, "--apply")
    assert fixed == checked
    assert ("compose-listener-mesh-bound" in fixed[1]) == (node == "partner-tbilisi")


def test_fix_lists_the_mesh_faults_check_finds_on_the_node(tmp_path: Path) -> None:
    """The mesh rules judge a node's side of its edges in the mesh that
    ``check --node NODE`` reads (the node and the source): fix, which
    cannot change a peer, lists what they fail on each node of a faulty
    mesh, as check then does."""
    names = ["hub", "spoke1", "spoke2", "spoke3"]
    mesh = mesh_fleet.hub_and_spoke(names)
    spokes = mesh.nodes
    spokes["spoke1"].peers["stale"] = mesh_fleet.PeerSpec(mesh_fleet.keypair()[1],
                                                          ["10.99.8.8/32"])
    del spokes["spoke2"].peers["hub"]
    spokes["hub"].peers["spoke3"].allowed_ips = ["10.77.0.99/32"]
    inventory = mesh.write_trees(tmp_path)
    mesh_failures = set()
    for node in names:
        fixed, checked = _verdicts(inventory, node)
        assert fixed == checked, node
        mesh_failures |= {rule for rule in fixed[1] if rule.startswith("mesh-")}
    assert mesh_failures  # the planted faults fail on some node


def test_fix_dry_run_lists_a_compose_finding_it_leaves(tmp_path: Path) -> None:
    inventory = _demo(tmp_path)
    done = awgcheck("fix", "partner-tbilisi", "-i", str(inventory))
    assert done.returncode == 1
    assert ("partner-tbilisi: still failing after the fix: compose-listener-mesh-bound: "
            "relay RELAY_BIND is 0.0.0.0") in done.stderr
    assert "+S4 = 18" in done.stdout
