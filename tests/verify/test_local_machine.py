"""This machine as a node (``local: /``, and ``verify``): the same runtime
and probe readers as an SSH node, with commands run right here.

The triage and ``check --runtime`` tests run the installed entry point
with the fake ``awg`` and ``ping`` first on PATH (tests/verify/fake_node.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from fake_node import SECRETS, SERVER, SOURCE, FakeNode, conf_text, with_

from awgcheck import inventory
from awgcheck.collect.base import ConnectOptions
from awgcheck.collect.local import LocalTreeCollector
from awgcheck.collect.machine import MachineCollector, open_local_node
from awgcheck.collect.runtime import read_runtime
from awgcheck.errors import CollectError, ErrorClass


def fleet(node: FakeNode, tmp_path: Path) -> Path:
    """An inventory whose one node is this machine, and the hub's conf as source."""
    hub = tmp_path / "hub.conf"
    hub.write_text(conf_text(SOURCE).replace("Address = 10.77.0.3/24",
                                             f"Address = {SERVER}/24"))
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": str(hub), "nodes": {
        "self": {"local": "/", "conf": str(node.conf)}}}))
    return path


def test_triage_on_this_machine_reads_the_running_interface(tmp_path: Path) -> None:
    node = FakeNode(tmp_path)
    node.plant(SOURCE, with_(S4="17"), received=0, rx_growth=0)
    done = node.awgcheck("triage", "self", "-i", str(fleet(node, tmp_path)), "--probe",
                         "--window", "0", "--format", "json")
    report = json.loads(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert report["runtime"] == {"view": "showconf+dump", "generation": "3.x"}
    s4 = next(p for p in report["params"] if p["param"] == "S4")
    assert (s4["verdict"], s4["runtime"]["raw"], s4["file"]["raw"]) == ("NOT APPLIED", "17", "18")
    assert report["evidence"]["peer"]["handshake_age"] is not None
    assert report["evidence"]["ping"]["loss"] == 100
    assert report["file"] == str(node.conf)
    assert report["verdict"]["fix"]["command"] == "awg-quick down awg0 && awg-quick up awg0"
    assert not any(secret in done.stdout for secret in SECRETS)


def test_check_runtime_on_this_machine(tmp_path: Path) -> None:
    node = FakeNode(tmp_path)
    node.plant(SOURCE, SOURCE)
    done = node.awgcheck("check", "-i", str(fleet(node, tmp_path)), "--runtime",
                         "--format", "json")
    findings = json.loads(done.stdout)["findings"]
    runtime = [f for f in findings if f["rule"].startswith("runtime")]
    assert runtime and all(f["status"] == "pass" for f in runtime), runtime


def test_a_copied_tree_is_not_this_machine(tmp_path: Path) -> None:
    tree = inventory.Node(name="copy", local=tmp_path)
    here = inventory.Node(name="here", local=Path("/"))
    assert isinstance(open_local_node(tree, ConnectOptions()), LocalTreeCollector)
    assert isinstance(open_local_node(here, ConnectOptions()), MachineCollector)


def test_a_missing_awg_is_said_as_not_installed(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    node = inventory.Node(name="here", local=Path("/"))
    read = read_runtime(MachineCollector(), node)
    assert read.state is None
    # This machine is not reached over SSH: no sshd advice.
    assert read.missing[0].why == "`awg` is not installed on this machine (or not on this PATH)"
    assert "sshd" not in read.missing[0].how and "SSH" not in read.missing[0].how


def test_a_command_is_bounded_by_its_timeout_and_the_deadline() -> None:
    with pytest.raises(CollectError) as slow:
        MachineCollector().run([sys.executable, "-c", "import time; time.sleep(5)"],
                               timeout=0.3)
    assert slow.value.error_class is ErrorClass.COMMAND_TIMEOUT
    with pytest.raises(CollectError) as late:
        MachineCollector(expires_at=0.0).run(["true"])
    assert late.value.error_class is ErrorClass.DEADLINE_EXCEEDED


def test_commands_get_no_stdin_and_no_shell(tmp_path: Path) -> None:
    result = MachineCollector().run(["cat", "-", f"{tmp_path}/$(id)"])
    assert result.stdout == b""  # stdin is empty: cat does not wait
    assert b"$(id)" in result.stderr  # the word reached cat as written
