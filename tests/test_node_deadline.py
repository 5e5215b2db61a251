"""One deadline per node, reading and rule evaluation together.

``--timeout`` bounds a node from the moment its reading starts: the SSH
transport closes at it, and the node's rules get only what reading left
(at least ``limits.EVALUATION_MIN``). Before, reading and evaluation had a
``--timeout`` each, so a slow node whose values made a rule's pattern
explode cost twice the deadline.

Real sshd nodes; the slowness is a fake ``awg`` on the session PATH (the
kernel interface cannot run here) that sleeps as long as its node's state
says before failing, which ``check --runtime`` reports as missing evidence
and goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import paths
import pytest
import yaml
from sshd_fleet import CONF_REL, SshdFleet

TIMEOUT = 10
SLOW = 8  # seconds the slow node's awg takes: most of its deadline
CATASTROPHIC = "^(a|aa)+$"  # allowed (no nested repeat); exponential on a's and a "!"
FAKE_AWG = """#!/bin/sh
# Fake awg: showconf sleeps as long as its node's state says (by sshd
# port), then every command fails as on a node whose tunnel is down.
port=$(echo "$SSH_CONNECTION" | cut -d' ' -f4)
if [ "$1" = showconf ]; then
    sleep "$(cat "$(dirname "$0")/../state/$port" 2>/dev/null || echo 0)"
fi
echo "Unable to access interface: No such device" >&2
exit 1
"""


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-awg")
    (root / "bin").mkdir()
    (root / "state").mkdir()
    awg = root / "bin" / "awg"
    awg.write_text(FAKE_AWG)
    awg.chmod(0o755)
    root.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def ssh_fleet(fakes: Path) -> Iterator[SshdFleet]:
    with SshdFleet(nodes_wanted=3,
                   extra_config=f"SetEnv PATH={fakes / 'bin'}:/usr/bin:/bin") as fleet:
        yield fleet


def _run(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "awgcheck", *args], capture_output=True,
                          text=True, timeout=120, env=env)
    return proc, time.monotonic() - started


def test_slow_node_with_a_costly_rule_costs_one_deadline_not_two(
        ssh_fleet: SshdFleet, fakes: Path, tmp_path: Path) -> None:
    server, slow, stuck = ssh_fleet.nodes
    conf = (paths.DEMO / "nodes" / "server" / CONF_REL).read_text()
    server.write(CONF_REL, conf, 0o600)
    slow.write(CONF_REL, conf.replace("S1 = 52", "S1 = 52\nI2 = " + "a" * 60 + "!"), 0o600)
    stuck.write(CONF_REL, conf, 0o600)
    (fakes / "state" / str(slow.port)).write_text(f"{SLOW}\n")
    (fakes / "state" / str(stuck.port)).write_text("600\n")  # past every deadline
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": ssh_fleet.inventory_fields(server),
        "slow": ssh_fleet.inventory_fields(slow),
        "stuck": ssh_fleet.inventory_fields(stuck)}}))
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"rules": [{
        "id": "evil", "title": "t", "severity": "error", "description": "d",
        "remediation": "r", "select": {"artifact": "conf", "section": "any", "params": ["I2"]},
        "check": {"type": "regex", "pattern": CATASTROPHIC, "mode": "must-match"}}]}))
    proc, elapsed = _run(["check", "-i", str(inventory), "--rules", str(rules), "--runtime",
                          "--format", "json", "--ssh-config", "none",
                          "--timeout", str(TIMEOUT)])
    report = json.loads(proc.stdout)
    nodes = {n["name"]: (n["status"], n.get("error_class")) for n in report["nodes"]}
    # A runtime read never fails a node: the stuck one is checked from its
    # files, with a warning that its awg was cut off at the deadline.
    assert nodes == {"server": ("pass", None), "slow": ("error", "rule_error"),
                     "stuck": ("pass", None)}, proc.stderr
    said = {(f["node"], f["rule"]): f["message"] for f in report["findings"]}
    assert said["slow", "evil"].startswith(f"rule evil did not finish within the node's "
                                           f"{TIMEOUT} s deadline")
    assert f"node deadline of {TIMEOUT}s exceeded" in said["stuck", "runtime-unavailable"]
    # Reading took SLOW of the TIMEOUT seconds; the rule got the rest (about
    # TIMEOUT + 2.5 s in all, with interpreter start-up). With a deadline
    # each, reading and evaluation took SLOW + TIMEOUT = 18 s at the very
    # least (21.6 s measured); the bound sits below that, with 4 s of slack
    # for a loaded machine.
    assert elapsed < SLOW + TIMEOUT - 1
