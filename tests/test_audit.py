"""The audit pipeline around the collectors: what a node that cannot be
opened or read becomes, and that it never holds up the run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from awgcheck import audit, inventory, nodes, selection
from awgcheck.cli.main import main
from awgcheck.collect.base import Collector, ConnectOptions
from awgcheck.collect.transports import TRANSPORTS
from awgcheck.errors import ErrorClass
from awgcheck.model import Status
from awgcheck.ruleset import load as ruleset

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


def _broken_transport(node: inventory.Node, options: ConnectOptions | nodes.RunOptions
                      ) -> Collector:
    raise RuntimeError(f"transport bug on {node.name}")


def test_audit_collector_that_raises_is_an_internal_error_without_waiting() -> None:
    # Before: the exception killed the worker thread and every node waited
    # out its deadline (3 s + grace) to be reported as deadline_exceeded.
    fleet_file = inventory.load(DEMO / "fleet.yaml")
    chosen = selection.select(fleet_file, ["partner-*"])
    opened: list[str] = []

    def broken(node: inventory.Node, options: nodes.RunOptions) -> Collector:
        opened.append(node.name)
        return _broken_transport(node, options)

    started = time.monotonic()
    report = audit.audit(fleet_file, ruleset.load_shipped(), selection=chosen,
                         options=nodes.RunOptions(timeout=3), factory=broken)
    assert time.monotonic() - started < 1.5
    assert sorted(opened) == sorted([*(n.name for n in chosen.nodes), "server"])
    assert [n.name for n in report.nodes] == ["partner-berlin", "partner-tbilisi",
                                              "partner-almaty"]
    for node in report.nodes:
        assert node.status is Status.ERROR
        assert node.error_class is ErrorClass.INTERNAL_ERROR
        assert node.error == (f"{node.name}: internal error while opening the node: "
                              f"RuntimeError: transport bug on {node.name}")


def test_read_node_collector_that_raises_is_captured() -> None:
    node = inventory.Node(name="edge", host="edge.example")
    read = nodes.read_node(node, nodes.RunOptions(), factory=_broken_transport)
    assert read.documents is None and read.error is not None
    assert read.error.error_class is ErrorClass.INTERNAL_ERROR


def test_transports_registry_opens_every_kind_of_inventory_node() -> None:
    fleet_file = inventory.load(DEMO / "fleet.yaml")
    ssh_node = inventory.node_from_url("ssh://audit@edge.example:2222")
    assert {n.transport for n in (*fleet_file.nodes, ssh_node)} == set(TRANSPORTS)
    collector = nodes.open_collector(fleet_file.node("server"), nodes.RunOptions())
    assert b"[Interface]" in collector.read_file("/etc/amnezia/amneziawg/awg0.conf")


def test_cli_check_transport_that_raises_is_an_internal_error_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSPORTS, "local", _broken_transport)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["check", "-i", str(DEMO / "fleet.yaml"),
                                       "--timeout", "3", "--format", "json"])
    assert time.monotonic() - started < 2.0
    assert result.exit_code == 4, result.output
    nodes = json.loads(result.stdout)["nodes"]
    assert [n["error_class"] for n in nodes] == ["internal_error"] * 4
    assert "RuntimeError: transport bug on server" in nodes[0]["error"]


def test_cli_triage_transport_that_raises_exits_4_without_a_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TRANSPORTS, "local", _broken_transport)
    result = CliRunner().invoke(main, ["triage", "-i", str(DEMO / "fleet.yaml"),
                                       "partner-berlin"])
    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit)
    assert "COULD NOT READ THE NODE (internal_error)" in result.stdout
    assert "RuntimeError: transport bug on partner-berlin" in result.stdout


def test_audit_node_read_past_its_deadline_still_gets_its_rules_checked() -> None:
    # Rules get what reading left of the node's deadline; a node whose
    # deadline passed while slower nodes were read still gets
    # EVALUATION_MIN, so a quick rule set is not failed for others' slowness.
    fleet_file = inventory.load(DEMO / "fleet.yaml")
    options = nodes.RunOptions(timeout=5, expires_at=time.monotonic() - 60)
    report = audit.audit(fleet_file, ruleset.load_shipped(), options=options)
    statuses = {n.name: n.status for n in report.nodes}
    expected = {n.name: n.status for n in audit.audit(fleet_file, ruleset.load_shipped()).nodes}
    assert statuses == expected
    assert not [f for f in report.findings if "did not finish" in f.message]
