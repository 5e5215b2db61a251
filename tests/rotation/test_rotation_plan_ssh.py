"""``plan`` reads the source node the way ``check`` does, over a real sshd."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import SshdFleet, free_port

from awgcheck.cli.main import main

CONF_REL = "etc/amnezia/amneziawg/awg0.conf"
NEW = paths.ASSETS / "rotation" / "swap-h1-h2.json"


@pytest.fixture(scope="module")
def ssh_fleet() -> Iterator[SshdFleet]:
    with SshdFleet(nodes_wanted=2) as fleet:
        for node, name in zip(fleet.nodes, ("server", "partner-berlin"), strict=True):
            node.write(CONF_REL, (paths.DEMO / "nodes" / name / CONF_REL).read_text(), 0o600)
        yield fleet


def _plan(inventory: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["plan", "--to", str(NEW), "-i", str(inventory),
                                       "--format", "json", "--ssh-config", "none",
                                       "--timeout", "10"])
    return result.exit_code, result.stdout, result.stderr


def test_plan_reads_the_source_node_over_ssh_and_checks_the_runtime(
        ssh_fleet: SshdFleet, tmp_path: Path) -> None:
    server, partner = ssh_fleet.nodes
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": ssh_fleet.inventory_fields(server),
        "partner": ssh_fleet.inventory_fields(partner)}}))
    code, out, err = _plan(inventory)
    assert (code, err) == (0, "")
    plan = json.loads(out)
    s4 = next(s for s in plan["steps"] if [c["param"] for c in s["changes"]] == ["S4"])
    assert (s4["changes"][0]["from"], s4["changes"][0]["to"]) == ("18", "20")
    assert s4["check"] == f"awgcheck check --inventory {inventory} --runtime"
    assert plan["preflight"].endswith("--runtime")
    assert plan["steps"][0]["check"] == (f"awgcheck check --inventory {inventory} "
                                         "--profile protocol --runtime")


def test_plan_source_node_unreachable_is_exit_2_naming_it(ssh_fleet: SshdFleet,
                                                          tmp_path: Path) -> None:
    server, partner = ssh_fleet.nodes
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {**ssh_fleet.inventory_fields(server), "port": free_port()},
        "partner": ssh_fleet.inventory_fields(partner)}}))
    code, out, err = _plan(inventory)
    assert code == 2 and out == ""
    assert "the source of truth, node server, could not be read" in err
    assert "connection_refused" in err and "Traceback" not in err
