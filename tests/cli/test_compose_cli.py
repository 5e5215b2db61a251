"""Compose on the command line: ``inspect compose`` and the demo fleet's
compose findings in ``check``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import paths
import pytest
import yaml
from click.testing import CliRunner

from awgcheck.cli.main import main

DEMO = paths.DEMO
STACK = DEMO / "nodes" / "partner-tbilisi" / "opt" / "partner-edge"
HPK = "2gtwTVAuutW+pbxXRX0K6mlCFQItiKz8qeS7LVj8PD0="


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_check_demo_shows_the_compose_drift_with_file_and_line() -> None:
    code, out, _ = run("check", "-i", str(DEMO / "fleet.yaml"), "--format", "json")
    assert code == 1
    report = json.loads(out)
    bad = [f for f in report["findings"] if f["status"] == "fail"
           and f["rule"].startswith("compose-")]
    (relay,) = bad
    assert relay["node"] == "partner-tbilisi" and relay["rule"] == "compose-listener-mesh-bound"
    assert relay["param"] == "relay RELAY_BIND" and relay["severity"] == "error"
    assert (relay["expected"], relay["actual"]) == ("10.77.0.3", "0.0.0.0")
    assert relay["location"]["path"].endswith("partner-tbilisi/opt/partner-edge/compose.yaml")
    assert relay["location"]["line"] == 37
    # Berlin's stack is read and passes (the exporter is in the enabled profile).
    berlin = [f for f in report["findings"] if f["node"] == "partner-berlin"
              and f["rule"] == "compose-listener-mesh-bound"]
    assert {f["param"] for f in berlin} == {"relay RELAY_BIND", "exporter --web.listen-address"}
    assert HPK not in out


def test_cli_check_compose_env_wins_over_dotenv(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    inventory = tmp_path / "demo" / "fleet.yaml"
    code, out, _ = run("check", "-i", str(inventory), "--node", "partner-tbilisi",
                       "--compose-env", "RELAY_IP=10.77.0.3", "--format", "json")
    report = json.loads(out)
    assert not [f for f in report["findings"] if f["status"] == "fail"
                and f["rule"].startswith("compose-")]
    assert code == 1  # the conf's S4 drift is still there


def test_cli_check_bad_compose_env_is_a_usage_error() -> None:
    code, _, err = run("check", "-i", str(DEMO / "fleet.yaml"), "--compose-env", "1X=2")
    assert code == 2 and "KEY=VALUE" in err


def test_cli_check_broken_compose_file_keeps_the_node_checked(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    stack = tmp_path / "demo" / "nodes" / "partner-berlin" / "opt" / "partner-edge"
    (stack / ".env").write_text("# MESH_IP=10.77.0.2 (commented out by mistake)\n")
    code, out, _ = run("check", "-i", str(tmp_path / "demo" / "fleet.yaml"), "--node",
                       "partner-berlin", "--format", "json")
    report = json.loads(out)
    berlin = next(n for n in report["nodes"] if n["name"] == "partner-berlin")
    assert berlin["status"] == "fail" and berlin["error"] is None
    rules = {f["rule"] for f in report["findings"]
             if f["node"] == "partner-berlin" and f["status"] == "fail"}
    assert rules == {"compose-file-errors", "compose-listener-mesh-bound"}
    assert code == 1


def test_cli_inspect_compose_json() -> None:
    code, out, _ = run("inspect", "compose", str(STACK / "compose.yaml"), "--profile",
                       "metrics", "--format", "json")
    assert code == 0
    view = json.loads(out)
    assert view["active_profiles"] == ["metrics"]
    relay = view["services"]["relay"]["environment"]["RELAY_BIND"]
    assert (relay["raw"], relay["value"], relay["line"]) == ("${RELAY_IP:-0.0.0.0}",
                                                              "0.0.0.0", 37)
    assert relay["variables"] == ["RELAY_IP"]
    agent = view["services"]["awg-agent"]["environment"]
    assert agent["AWG_S4"]["origin"] == "env_file" and agent["AWG_S4"]["line"] == 8
    assert agent["AWG_HEADERPROTECTIONKEY"]["value"].startswith("sha256:")
    assert agent["AWG_I1"]["value"].startswith("<b 0xc7")  # not a key: shown as is
    assert view["services"]["debug-shell"]["active"] is False
    assert HPK not in out


def test_cli_inspect_compose_table_and_folder() -> None:
    code, out, _ = run("inspect", "compose", str(STACK))
    assert code == 0
    assert "== debug-shell: INACTIVE" in out and "== exporter: INACTIVE" in out
    assert "RELAY_BIND" in out and "sha256:" in out and HPK not in out


def test_cli_inspect_compose_env_file_and_compose_env(tmp_path: Path) -> None:
    env = tmp_path / "other.env"
    env.write_text("RELAY_IP=10.77.0.3\n")
    for extra in (["--env-file", str(env)], ["--compose-env", "RELAY_IP=10.77.0.3"]):
        code, out, _ = run("inspect", "compose", str(STACK / "compose.yaml"), *extra,
                           "--format", "json")
        view = json.loads(out)
        assert code == 0
        assert view["services"]["relay"]["environment"]["RELAY_BIND"]["value"] == "10.77.0.3"


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_cli_inspect_compose_refused_project_exits_1(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(
        {"services": {"relay": {"image": "x", "environment": {"BIND": "${MESH_IP:?unset}"}}}}))
    code, out, _ = run("inspect", "compose", str(tmp_path / "compose.yaml"), "--format", fmt)
    assert code == 1 and "interpolation-required" in out


def test_cli_inspect_compose_key_shaped_value_is_digested(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  a:\n    image: x\n    environment:\n      PEER: {HPK}\n"
        f"    command: [\"--peer={HPK}\"]\n")
    for fmt in ("json", "table"):
        _, out, _ = run("inspect", "compose", str(tmp_path), "--format", fmt)
        assert HPK not in out and "sha256:" in out
