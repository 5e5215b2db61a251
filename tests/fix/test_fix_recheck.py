"""``fix``'s exit code is ``check``'s verdict on the fixed node: the
re-check after the fix runs every rule ``check`` runs on the node, on its
compose project too (with the fixed conf in place of the old one), so what
fix cannot change is listed as remaining rather than passed over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import paths
import pytest
from in_process import awgcheck


def _demo(tmp_path: Path) -> Path:
    shutil.copytree(paths.DEMO, tmp_path / "demo")
    return tmp_path / "demo" / "fleet.yaml"


@pytest.mark.parametrize("node", ["partner-tbilisi", "partner-berlin", "partner-almaty"])
def test_fix_exit_code_is_what_check_says_of_the_node_after_it(tmp_path: Path,
                                                                node: str) -> None:
    """The demo's Tbilisi has S4 drift (fix changes it) and a relay bound
    to 0.0.0.0 in its compose project (fix cannot): fix must say the node
    still fails, naming the compose rule, as check then does."""
    inventory = _demo(tmp_path)
    fixed = awgcheck("fix", node, "-i", str(inventory), "--apply", "--format", "json")
    assert fixed.returncode in (0, 1), fixed.stderr
    remaining = {f["rule"] for f in json.loads(fixed.stdout)["remaining"]}
    checked = awgcheck("check", "-i", str(inventory), "--node", node, "--format", "json")
    failing = {f["rule"] for f in json.loads(checked.stdout)["findings"]
               if f["status"] == "fail" and f["severity"] in ("error", "critical")}
    assert (fixed.returncode, remaining) == (checked.returncode, failing)
    assert ("compose-listener-mesh-bound" in remaining) == (node == "partner-tbilisi")


def test_fix_dry_run_lists_a_compose_finding_it_leaves(tmp_path: Path) -> None:
    inventory = _demo(tmp_path)
    done = awgcheck("fix", "partner-tbilisi", "-i", str(inventory))
    assert done.returncode == 1
    assert ("partner-tbilisi: still failing after the fix: compose-listener-mesh-bound: "
            "relay RELAY_BIND is 0.0.0.0") in done.stderr
    assert "+S4 = 18" in done.stdout
