"""End to end: `awgcheck check` on real sshd nodes with planted drift and
planted faults. Each drift and each fault class must be reported, the run
must end with exit code 5, and a tarpit must not hold it past its deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from sshd_fleet import SshdFleet, Tarpit, free_port, keygen

DEMO = paths.DEMO / "nodes"
CONF_REL = "etc/amnezia/amneziawg/awg0.conf"
DEADLINE = 5


def demo_conf(node: str) -> str:
    return (DEMO / node / CONF_REL).read_text()


@pytest.fixture(scope="module")
def ssh_fleet() -> Any:
    with SshdFleet(nodes_wanted=5) as fleet:
        yield fleet


def _node(fleet: SshdFleet, index: int, **extra: Any) -> dict[str, Any]:
    return fleet.inventory_fields(fleet.nodes[index], **extra)


def test_fleet_ssh_drift_and_faults(ssh_fleet: SshdFleet, tmp_path: Path) -> None:
    fleet = ssh_fleet
    server, good, drift, spelling, nofile = fleet.nodes
    server.write(CONF_REL, demo_conf("server"), 0o600)
    good.write(CONF_REL, demo_conf("partner-berlin"), 0o600)
    drift.write(CONF_REL, demo_conf("partner-tbilisi"), 0o600)  # S4 = 17
    spelling.write(CONF_REL, demo_conf("partner-almaty"), 0o600)
    (nofile.root / CONF_REL).unlink()
    wrong_key = tmp_path / "wrong_key"
    keygen(wrong_key)
    empty_known = tmp_path / "known_hosts_empty"
    empty_known.write_text("")
    with Tarpit() as tarpit:
        nodes = {
            "server": _node(fleet, 0),
            "berlin": _node(fleet, 1),
            "tbilisi": _node(fleet, 2),
            "almaty": _node(fleet, 3),
            "no-conf": _node(fleet, 4),
            "wrong-key": _node(fleet, 1, identity=str(wrong_key)),
            "unknown-host": _node(fleet, 1, known_hosts=str(empty_known)),
            "closed-port": {**_node(fleet, 1), "port": free_port()},
            "tarpit": {**_node(fleet, 1), "host": tarpit.host, "port": tarpit.port},
        }
        inventory = tmp_path / "fleet.yaml"
        inventory.write_text(yaml.safe_dump({"source": "server", "nodes": nodes}))
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "awgcheck", "check", "-i", str(inventory), "--format",
             "json", "--timeout", str(DEADLINE), "--ssh-config", "none"],
            capture_output=True, text=True, timeout=120, env=_no_agent_env())
        elapsed = time.monotonic() - started
    assert proc.returncode == 5, proc.stderr
    report = json.loads(proc.stdout)
    classes = {n["name"]: (n["status"], n.get("error_class")) for n in report["nodes"]}
    # A tarpit is caught by the banner timeout, or by the node deadline if
    # the machine is so loaded that the deadline comes first.
    assert classes.pop("tarpit") in (("error", "banner_timeout"),
                                     ("error", "deadline_exceeded"))
    assert classes == {
        "server": ("pass", None), "berlin": ("pass", None), "tbilisi": ("fail", None),
        "almaty": ("pass", None), "no-conf": ("error", "file_missing"),
        "wrong-key": ("error", "auth_failed"), "unknown-host": ("error", "host_key_unknown"),
        "closed-port": ("error", "connection_refused"),
    }
    drift_findings = [f for f in report["findings"]
                      if f["status"] == "fail" and f["rule"] == "must-match-drift"]
    assert [(f["node"], f["param"], f["expected"], f["actual"]) for f in drift_findings] == [
        ("tbilisi", "S4", "18", "17")]
    assert drift_findings[0]["location"]["line"] == 13
    spelling_findings = [f for f in report["findings"]
                         if f["node"] == "almaty" and f["status"] == "fail"]
    assert {f["rule"] for f in spelling_findings} == {"canonical-spelling"}
    # A tarpit never answers: the run still ends close to the node deadline.
    assert elapsed < DEADLINE + 20
    assert "Traceback" not in proc.stderr


def _no_agent_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    return env
