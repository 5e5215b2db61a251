"""Fleets behind a ProxyJump bastion, end to end on real sshd: `check`,
`triage` and `diff` open one connection to a stock bastion (sshd's
defaults: MaxStartups 10:30:100, MaxSessions 10) for the whole run, a
bastion that drops mid-run is re-established once, and one whose host key
changed fails every node behind it without a connection to any node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import (
    FleetNode,
    SshdFleet,
    keygen,
    kill_tree,
    known_hosts_name,
    stock_bastion,
)

from awgcheck import audit, inventory
from awgcheck.cli.main import main
from awgcheck.collect.scope import RunScope
from awgcheck.collect.ssh.jumps import BastionPool
from awgcheck.nodes import NodeRead, RunOptions, read_node

NODES = 12
CONNECTED = "Connection from"
ACCEPTED = "Accepted publickey"


@pytest.fixture(scope="module")
def nodes() -> Iterator[SshdFleet]:
    with SshdFleet(nodes_wanted=NODES, log_level="VERBOSE") as started:
        yield started


@pytest.fixture()
def bastion(nodes: SshdFleet) -> Iterator[FleetNode]:
    with stock_bastion(nodes) as host:
        yield host


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def write_inventory(path: Path, nodes: SshdFleet, bastion: FleetNode,
                    **extra: Any) -> Path:
    """Every node of ``nodes`` behind ``bastion``; node1 is the source."""
    entries = {node.name: nodes.inventory_fields(
        node, jump=f"root@{bastion.host}:{bastion.port}", **extra) for node in nodes.nodes}
    path.write_text(yaml.safe_dump({"source": "node1", "nodes": entries}))
    return path


def check(inventory_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    return subprocess.run(
        [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory_path), "--format",
         "json", "--ssh-config", "none", "--timeout", "20", *args],
        capture_output=True, text=True, timeout=120, env=env)


def test_check_behind_a_stock_bastion_opens_one_connection(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion)
    mark = bastion.sshd.log_mark()
    proc = check(fleet)
    report = json.loads(proc.stdout)
    assert [(n["name"], n.get("error_class")) for n in report["nodes"]
            if n["status"] == "error"] == [], proc.stderr
    assert len(report["nodes"]) == NODES
    # Twelve nodes at once (the default concurrency): one connection, one
    # authentication, where twelve would have met MaxStartups 10:30:100.
    assert bastion.sshd.logged(CONNECTED, mark) == 1
    assert bastion.sshd.logged(ACCEPTED, mark) == 1


def read_all(fleet: Path, progress: Any, *, concurrency: int = 3,
             timeout: float = 20.0) -> tuple[list[NodeRead], float]:
    nodes = inventory.load(fleet).nodes
    started = time.monotonic()
    reads = audit.read_nodes(nodes, RunOptions(concurrency=concurrency, timeout=timeout,
                                               ssh_config="none"), progress=progress)
    return reads, time.monotonic() - started


def after(count: int, action: Any) -> Any:
    """A progress callback that runs ``action`` once ``count`` nodes are read."""
    seen: list[NodeRead] = []

    def progress(read: NodeRead) -> None:
        seen.append(read)
        if len(seen) == count:
            action()

    return progress


def test_bastion_dropped_mid_run_is_reestablished_once(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion)
    mark = bastion.sshd.log_mark()

    def drop() -> None:
        for pid in bastion.sshd.connections():
            kill_tree(pid)

    reads, elapsed = read_all(fleet, after(3, drop))
    # Nodes in flight when it dropped are retried over the new connection.
    failed = {r.node.name: (r.error.error_class, str(r.error)) for r in reads
              if r.error is not None}
    assert all(kind == "connection_dropped" for kind, _ in failed.values()), failed
    assert len(failed) <= 3, failed  # at most the nodes in flight at the drop
    assert bastion.sshd.logged(CONNECTED, mark) == 2
    assert bastion.sshd.logged(ACCEPTED, mark) == 2
    assert elapsed < 20
    # The run closed its bastion connection when it ended.
    assert wait_for(lambda: not bastion.sshd.connections())


def test_bastion_gone_mid_run_fails_the_rest_naming_it(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion)
    reads, elapsed = read_all(fleet, after(3, bastion.sshd.kill))
    checked = [r for r in reads if r.error is None]
    failed = [r.error for r in reads if r.error is not None]
    assert len(checked) >= 3
    assert failed
    label = f"{bastion.host}:{bastion.port}"
    for error in failed:
        # Re-establishing it was refused: the nodes say so, and whose fault.
        assert error.error_class in ("connection_refused", "connection_dropped"), error
        assert f"via bastion {label}: " in str(error)
    assert any(e.error_class == "connection_refused" for e in failed)
    assert elapsed < 20


def test_changed_bastion_host_key_fails_every_node_and_reaches_none(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    name = known_hosts_name(bastion.host, bastion.port)
    kind, blob = keygen(tmp_path / "impostor").split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text("\n".join([*(line for line in nodes.known_hosts.read_text().splitlines()
                                  if not line.startswith(f"{name} ")),
                                f"{name} {kind} {blob}"]) + "\n")
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion, known_hosts=str(known))
    bastion_mark, node_mark = bastion.sshd.log_mark(), nodes.nodes[0].sshd.log_mark()
    proc = check(fleet)
    assert proc.returncode == 4, proc.stderr
    report = json.loads(proc.stdout)
    assert {n["error_class"] for n in report["nodes"]} == {"host_key_changed"}
    label = f"{bastion.host}:{bastion.port}"
    for node in report["nodes"]:
        assert f"via bastion {label}: HOST KEY CHANGED: the ssh-ed25519 key bastion " \
               f"{label} offered" in node["error"]
    assert bastion.sshd.logged(CONNECTED, bastion_mark) == 1
    assert nodes.nodes[0].sshd.logged(CONNECTED, node_mark) == 0


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.05)
    return False


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_triage_of_a_node_and_its_source_behind_one_bastion(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion)
    mark = bastion.sshd.log_mark()
    code, output = invoke("triage", "node2", "--against", "node1", "-i", str(fleet),
                          "--ssh-config", "none", "--format", "json")
    assert code in (0, 1), output  # read: 4 would be "could not read the node"
    assert json.loads(output)["node"] == "node2"
    assert bastion.sshd.logged(CONNECTED, mark) == 1


def test_diff_of_two_nodes_behind_one_bastion(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = write_inventory(tmp_path / "fleet.yaml", nodes, bastion)
    mark = bastion.sshd.log_mark()
    code, output = invoke("diff", "node1", "node2", "-i", str(fleet), "--ssh-config", "none")
    assert code in (0, 1), output
    assert "node1-secret" not in output
    assert bastion.sshd.logged(CONNECTED, mark) == 1


def test_bastion_channels_reach_the_run_s_pool(
        nodes: SshdFleet, bastion: FleetNode, tmp_path: Path) -> None:
    fleet = inventory.load(write_inventory(tmp_path / "fleet.yaml", nodes, bastion))
    with RunScope() as scope:
        options = RunOptions(timeout=20, ssh_config="none", bastion_channels=3, scope=scope)
        for node in fleet.nodes[:2]:
            assert read_node(node, options).error is None
        pool = scope.part(BastionPool, BastionPool)
        assert pool.channels == 3


def test_bastion_channels_below_one_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke("check", "-i", str(tmp_path / "none.yaml"), "--bastion-channels", "0")
    assert code == 2
    assert "--bastion-channels" in output
