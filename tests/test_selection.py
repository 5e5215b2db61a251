"""Choosing nodes: --node globs, --group, --shard K/N, and what a run reads
and reports for them (awgcheck/selection.py and `check` on the demo fleet)."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from awgcheck import audit, inventory, selection
from awgcheck.cli.main import main
from awgcheck.errors import InventoryError, UsageError
from awgcheck.inventory import Inventory, Node, Rejected
from awgcheck.model import Shard
from awgcheck.nodes import NodeRead
from awgcheck.ruleset import load as ruleset
from tests.paths import DEMO, ROOT

FLEET = DEMO / "fleet.yaml"


def _fleet(names: list[str], source: str | None = None,
           groups: dict[str, tuple[str, ...]] | None = None,
           rejected: tuple[Rejected, ...] = ()) -> Inventory:
    nodes = tuple(Node(n, host=f"{n}.example", groups=(groups or {}).get(n, ()))
                  for n in names)
    return Inventory(Path("fleet.yaml"), nodes, source_node=source, rejected=rejected)


def _names(nodes: tuple[Node, ...]) -> list[str]:
    return [n.name for n in nodes]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("check", "--format", "json", *args)
    assert code != 2, err
    return code, json.loads(out)


# --- --node and --group --------------------------------------------------------------


@pytest.mark.parametrize(("patterns", "groups", "chosen"), [
    ([], [], ["server", "edge-1", "edge-2", "web[1]", "db"]),
    (["edge-*"], [], ["edge-1", "edge-2"]),
    (["edge-?", "db"], [], ["edge-1", "edge-2", "db"]),
    (["web[1]"], [], ["web[1]"]),  # the exact name, though it reads as a glob
    (["[de]*"], [], ["edge-1", "edge-2", "db"]),
    ([], ["eu"], ["edge-1", "db"]),
    ([], ["eu", "us"], ["edge-1", "edge-2", "db"]),
    (["server"], ["us"], ["server", "edge-2"]),  # either matches
], ids=["all", "glob", "globs-and-name", "bracketed-name", "class", "group", "groups",
        "node-or-group"])
def test_select_nodes_and_groups(patterns: list[str], groups: list[str],
                                 chosen: list[str]) -> None:
    fleet = _fleet(["server", "edge-1", "edge-2", "web[1]", "db"], source="server",
                   groups={"edge-1": ("eu", "edge"), "edge-2": ("us", "edge"), "db": ("eu",)})
    picked = selection.select(fleet, patterns, groups)
    assert _names(picked.nodes) == chosen  # in inventory order


@pytest.mark.parametrize(("patterns", "groups", "message"), [
    (["nope"], [], "--node nope: no node named 'nope' in fleet.yaml (nodes: server, edge-1)"),
    (["edge-1", "x*"], [], "--node x*: no node name matches it in fleet.yaml"),
    ([], ["asia"], "--group asia: no node of fleet.yaml is in group 'asia' (groups: eu)"),
], ids=["name", "glob", "group"])
def test_select_what_matches_nothing_is_a_usage_error(patterns: list[str], groups: list[str],
                                                      message: str) -> None:
    fleet = _fleet(["server", "edge-1"], source="server", groups={"edge-1": ("eu",)})
    with pytest.raises(UsageError, match=re.escape(message)):
        selection.select(fleet, patterns, groups)


def test_select_reads_the_source_but_reports_only_the_selection() -> None:
    fleet = _fleet(["server", "edge-1", "edge-2"], source="server")
    picked = selection.select(fleet, ["edge-2"])
    assert _names(picked.nodes) == ["edge-2"]
    assert _names(picked.read) == ["server", "edge-2"]
    picked = selection.select(fleet, ["server", "edge-2"])
    assert _names(picked.nodes) == _names(picked.read) == ["server", "edge-2"]


def test_select_host_awgcheck_cannot_read_is_an_error_only_when_selected() -> None:
    win = Rejected("win1", ("windows",), "inv.ini: host win1: ansible_connection 'winrm' is "
                   "not one awgcheck reads (ssh, paramiko or local)")
    fleet = _fleet(["server", "edge-1"], source="server", rejected=(win,))
    assert _names(selection.select(fleet, ["edge-*"]).nodes) == ["edge-1"]
    for patterns, groups in (([], []), (["win*"], []), ([], ["windows"])):
        with pytest.raises(InventoryError, match=r"host win1: ansible_connection 'winrm'.*"
                                                 "leave such hosts out with --node or --group"):
            selection.select(fleet, patterns, groups)


def test_inventory_groups_inherit_from_defaults_unless_the_node_sets_its_own(
        tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "server", "defaults": {"groups": ["fleet"]},
                                    "nodes": {"server": {"local": "s"},
                                              "a": {"local": "a", "groups": ["eu", "edge"]},
                                              "b": {"local": "b", "groups": "us"}}}))
    fleet = inventory.load(path)
    assert {n.name: n.groups for n in fleet.nodes} == {
        "server": ("fleet",), "a": ("eu", "edge"), "b": ("us",)}


@pytest.mark.parametrize(("groups", "message"), [
    ([1], "key 'groups' must list strings"),
    ([""], "key 'groups' must list non-empty names"),
    ({"eu": 1}, "key 'groups' must be a string or a list"),
], ids=["not-text", "empty", "mapping"])
def test_inventory_bad_groups_is_an_inventory_error(tmp_path: Path, groups: object,
                                                    message: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"source": "server", "nodes": {
        "server": {"local": "s"}, "a": {"local": "a", "groups": groups}}}))
    with pytest.raises(InventoryError, match=f"fleet.yaml: nodes: a: {message}"):
        inventory.load(path)


def test_cli_check_node_glob_and_group(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    fleet = tmp_path / "demo" / "fleet.yaml"
    data = yaml.safe_load(fleet.read_text())
    data["nodes"]["partner-almaty"]["groups"] = ["asia"]
    fleet.write_text(yaml.safe_dump(data, sort_keys=False))
    _, report = check_json("-i", str(fleet), "--node", "partner-b*", "--group", "asia")
    assert [n["name"] for n in report["nodes"]] == ["partner-berlin", "partner-almaty"]
    assert {f["node"] for f in report["findings"]} == {"partner-berlin", "partner-almaty"}
    code, _, err = run("check", "-i", str(fleet), "--group", "europe")
    assert code == 2
    assert err == (f"awgcheck: error: --group europe: no node of {fleet} is in group "
                   "'europe' (groups: asia)\n")


def test_audit_progress_hears_only_of_the_selected_nodes() -> None:
    fleet = inventory.load(FLEET)
    heard: list[str] = []

    def progress(read: NodeRead) -> None:
        heard.append(read.node.name)

    picked = selection.select(fleet, ["partner-tbilisi"])
    audit.audit(fleet, ruleset.load_shipped(), selection=picked, progress=progress)
    assert heard == ["partner-tbilisi"]


def test_cli_check_terminal_progress_counts_the_selected_nodes() -> None:
    # A real terminal on stderr: the progress line is drawn only there.
    main_fd, terminal = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "awgcheck", "check", "-i", str(FLEET),
                               "--node", "partner-tbilisi", "--format", "json"],
                              stdout=subprocess.PIPE, stderr=terminal, cwd=ROOT, check=False,
                              timeout=120)
        os.close(terminal)
        drawn = b""
        while chunk := _read_terminal(main_fd):
            drawn += chunk
    finally:
        os.close(main_fd)
    assert done.returncode == 1
    assert b"[1/1] nodes read, 0 could not be checked" in drawn
    assert b"/4]" not in drawn and b"/2]" not in drawn


def _read_terminal(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the writing side is closed and everything was read
        return b""


# --- --shard -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shard"), [("1/1", Shard(1, 1)), ("2/4", Shard(2, 4)),
                                             (" 4/4 ", Shard(4, 4))])
def test_parse_shard(text: str, shard: Shard) -> None:
    assert selection.parse_shard(text) == shard


@pytest.mark.parametrize(("text", "message"), [
    ("0/4", "K must be 1..N"), ("5/4", "K must be 1..N"), ("1/0", "K must be 1..N"),
    ("2", "expected K/N"), ("a/b", "expected K/N"), ("-1/4", "expected K/N"),
    ("1/4/2", "expected K/N"), ("", "expected K/N"),
])
def test_parse_shard_refuses(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        selection.parse_shard(text)


def test_shard_of_is_the_documented_hash() -> None:
    # docs/inventory.md: 1 + (first 8 bytes of SHA-256 of the name, big-endian) mod N.
    # Fixed values: a runner elsewhere, another Python, must split alike.
    for name in ("server", "partner-berlin", "ü-node", ""):
        digest = hashlib.sha256(name.encode()).digest()
        for count in (1, 2, 3, 10, 97):
            documented = 1 + int.from_bytes(digest[:8], "big") % count
            assert selection.shard_of(name, count) == documented
    assert selection.shard_of("partner-berlin", 3) == 2
    assert selection.shard_of("partner-almaty", 3) == 1
    assert selection.shard_of("server", 3) == 3
    assert selection.shard_of("anything", 1) == 1


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_shards_cover_every_node_once(count: int) -> None:
    names = [f"edge-{i:04d}" for i in range(1000)] + ["server", "ü-node", "a b"]
    fleet = _fleet(names, source="server")
    seen: list[str] = []
    for index in range(1, count + 1):
        picked = selection.select(fleet, shard=Shard(index, count))
        assert picked.nodes, f"shard {index}/{count} of 1003 nodes is empty"
        seen.extend(_names(picked.nodes))
    assert sorted(seen) == sorted(names)


def test_shard_membership_does_not_move_when_the_fleet_changes() -> None:
    names = [f"edge-{i:03d}" for i in range(200)]

    def split(fleet: Inventory) -> dict[str, int]:
        return {n.name: k for k in range(1, 5)
                for n in selection.select(fleet, shard=Shard(k, 4)).nodes}

    before = split(_fleet(names))
    after = split(_fleet(["new-node", *reversed(names[50:]), "another"]))
    assert {n: after[n] for n in names[50:]} == {n: before[n] for n in names[50:]}


def test_shard_of_a_selection_and_the_source_in_its_own_shard() -> None:
    fleet = _fleet(["server", "partner-berlin", "partner-almaty", "partner-tbilisi"],
                   source="server")
    owner = selection.shard_of("server", 3)
    for index in range(1, 4):
        picked = selection.select(fleet, ["partner-*"], shard=Shard(index, 3))
        assert "server" not in _names(picked.nodes)  # not selected: in no shard
        picked = selection.select(fleet, shard=Shard(index, 3))
        assert ("server" in _names(picked.nodes)) == (index == owner)
        assert _names(picked.read)[0] == "server" or not picked.nodes


def test_empty_shard_reads_nothing() -> None:
    fleet = _fleet(["server", "partner-berlin"], source="server")
    empty = next(k for k in range(1, 9)
             if not selection.select(fleet, shard=Shard(k, 8)).nodes)
    assert selection.select(fleet, shard=Shard(empty, 8)).read == ()


def test_cli_check_shards_report_each_node_once_with_the_shard_key() -> None:
    reported: list[str] = []
    findings: list[str] = []
    for index in (1, 2, 3):
        _, report = check_json("-i", str(FLEET), "--shard", f"{index}/3")
        assert report["shard"] == {"index": index, "count": 3}
        assert report["summary"]["nodes"] == len(report["nodes"])
        reported.extend(n["name"] for n in report["nodes"])
        findings.extend(f["node"] for f in report["findings"])
        # Every shard compares with the source, whether it reports it or not.
        assert report["source"]["node"] == "server"
    assert sorted(reported) == sorted(n.name for n in inventory.load(FLEET).nodes)
    _, whole = check_json("-i", str(FLEET))
    assert "shard" not in whole
    assert sorted(findings) == sorted(f["node"] for f in whole["findings"])


def test_cli_check_table_names_the_shard() -> None:
    _, out, _ = run("check", "-i", str(FLEET), "--shard", "2/3")
    assert out.splitlines()[1].startswith("awgcheck: 1 node (shard 2/3), source of truth: ")


@pytest.mark.parametrize(("value", "message"), [
    ("0/2", "Invalid value for '--shard': K must be 1..N (there are 2 shards, numbered "
            "from 1)"),
    ("2-of-4", "Invalid value for '--shard': expected K/N, for example 2/4 (shard 2 of 4)"),
])
def test_cli_check_bad_shard_is_a_usage_error(value: str, message: str) -> None:
    code, _, err = run("check", "-i", str(FLEET), "--shard", value)
    assert code == 2 and message in err


def test_cli_check_says_when_its_shard_is_empty() -> None:
    """The demo's four nodes leave some of 8 shards empty: that runner
    passes (nothing failed) but says it checked nothing."""
    fleet = inventory.load(FLEET)
    empty = next(k for k in range(1, 9) if not selection.select(fleet, shard=Shard(k, 8)).nodes)
    full = next(k for k in range(1, 9) if selection.select(fleet, shard=Shard(k, 8)).nodes)
    code, _, err = run("check", "-i", str(FLEET), "--shard", f"{empty}/8")
    assert code == 0
    assert f"awgcheck: warning: shard {empty}/8 holds none of the selected nodes" in err
    assert "holds none" not in run("check", "-i", str(FLEET), "--shard", f"{full}/8")[2]
