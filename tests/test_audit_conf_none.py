"""``conf: none``: a partner without AmneziaWG that still runs the compose
stack is checked for compose only.

The node tree is built in tmp_path from the demo's real partner-edge stack
(fixtures/demo/nodes/partner-tbilisi/opt/partner-edge), with no awg0.conf.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import paths
import pytest
import yaml
from click.testing import CliRunner

from awgcheck import inventory
from awgcheck.cli.main import main
from awgcheck.errors import InventoryError

STACK = paths.DEMO / "nodes" / "partner-tbilisi" / "opt" / "partner-edge"
SERVER = paths.DEMO / "nodes" / "server"


def fleet(tmp_path: Path, edge: dict[str, Any]) -> Path:
    shutil.copytree(SERVER, tmp_path / "server")
    shutil.copytree(STACK, tmp_path / "edge" / "opt" / "partner-edge")
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {"local": "server"},
        "edge": {"local": "edge", **edge}}}))
    return path


def check(inventory_file: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", "-i", str(inventory_file), "--format", "json",
                                       *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, json.loads(result.stdout)


def test_check_node_without_conf_is_checked_for_compose_only(tmp_path: Path) -> None:
    path = fleet(tmp_path, {"conf": "none", "compose": ["/opt/partner-edge/compose.yaml"],
                            "compose_profiles": ["metrics"]})
    assert not (tmp_path / "edge" / "etc").exists()
    code, report = check(path)
    [edge] = [n for n in report["nodes"] if n["name"] == "edge"]
    # Checked, not "could not check": the relay bound to 0.0.0.0 fails it.
    assert (edge["status"], edge["error"]) == ("fail", None)
    assert code == 1
    found = [f for f in report["findings"] if f["node"] == "edge"]
    # Rules that read a conf do not apply: neither failures nor passes.
    assert {f["rule"] for f in found} <= {
        "compose-must-match-drift", "compose-side-local-drift",
        "compose-listener-mesh-bound", "compose-container-variable", "compose-file-errors",
        "compose-secrets-in-env-file"}
    listeners = {(f["param"], f["status"], f["message"]) for f in found
                 if f["rule"] == "compose-listener-mesh-bound"}
    assert ("relay RELAY_BIND", "fail", "relay RELAY_BIND is 0.0.0.0: that binds every "
            "interface, the public NIC included (written as ${RELAY_IP:-0.0.0.0})") in listeners
    # A listener bound to an address can only be compared with a conf's Address.
    skipped = [m for _, status, m in listeners if status == "skip"]
    assert skipped and all(m.endswith("the node has no conf whose Address to compare with")
                           for m in skipped)
    # The params the stack carries are still compared with the source of truth.
    assert any(f["rule"] == "compose-must-match-drift" and f["status"] == "pass"
               for f in found)


def test_check_node_without_conf_reads_no_runtime(tmp_path: Path) -> None:
    path = fleet(tmp_path, {"conf": "none", "compose": ["/opt/partner-edge/compose.yaml"]})
    _, report = check(path, "--runtime", "--node", "edge")
    rules = {f["rule"] for f in report["findings"] if f["node"] == "edge"}
    assert "runtime-unavailable" not in rules  # no AmneziaWG, so no interface to ask


@pytest.mark.parametrize(("fields", "message"), [
    ({"conf": "none"}, "edge: 'conf: none' needs 'compose'"),
    ({"conf": "etc/awg0.conf"}, "edge: key 'conf' must be an absolute path on the node, "
                                "or 'none' for a node without AmneziaWG"),
], ids=["no-compose", "relative-conf"])
def test_inventory_conf_none_errors(tmp_path: Path, fields: dict[str, Any],
                                    message: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {"local": "server"}, "edge": {"local": "edge", **fields}}}))
    with pytest.raises(InventoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        inventory.load(path)


def test_inventory_source_needs_a_conf(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "edge", "nodes": {
        "edge": {"local": "edge", "conf": "none", "compose": ["/opt/x/compose.yaml"]}}}))
    with pytest.raises(InventoryError, match="node 'edge' has 'conf: none'; the source of "
                                             "truth needs a conf"):
        inventory.load(path)
